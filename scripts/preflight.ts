import * as path from "path";
import { parseTierConfig } from "../components/config/load";
import { lookupSecret, readStackFile } from "../components/config/stackFile";
import { awsChecks, awsClients } from "./preflight/aws";
import { databaseChecks } from "./preflight/database";
import { Check, fail, formatChecks } from "./preflight/result";
import { parseArgs, requireArg } from "./args";

const USAGE = "npm run preflight -- --stack <name>";
const PROJECT_DIR = path.resolve(__dirname, "..");

/** What would make `pulumi up --stack <name>` fail, checked before it runs: one line each, exit 1 on any. */
async function main(): Promise<number> {
    const args = parseArgs(process.argv.slice(2));
    const stack = requireArg(args, "stack", USAGE);
    const stackFile = readStackFile(PROJECT_DIR, stack);
    const { config } = parseTierConfig(stackFile.raw);
    const checks: Check[] = [];
    if (config.platform === "aws") {
        const region = typeof stackFile.all["aws:region"] === "string" ? (stackFile.all["aws:region"] as string) : undefined;
        checks.push(...(await awsChecks(config, region, awsClients(region ?? "us-east-1"))));
    }
    const password = lookupSecret(stackFile, stack, "postgresAdminPassword", process.env);
    if ("missing" in password) {
        checks.push(fail(password.missing));
    } else {
        const pg = config.postgres;
        checks.push(
            ...(await databaseChecks(config, {
                host: pg.host,
                port: pg.port,
                user: pg.adminUser,
                password: password.value,
                database: pg.database,
                sslmode: pg.sslmode,
                sslrootcert: pg.caBundle,
            })),
        );
    }
    process.stdout.write(formatChecks(checks));
    const failed = checks.filter((c) => !c.ok).length;
    process.stdout.write(
        failed === 0 ? `preflight ${stack}: nothing found that would fail\n` : `preflight ${stack}: ${failed} problem(s)\n`,
    );
    return failed === 0 ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (err: unknown) => {
        process.stderr.write(`preflight failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
    },
);
