import { loadStackConfig, lookupSecret, readStackFile } from "../components/config/stackFile";
import { endpointChecks, projectStacks } from "../checks/preflightStacks";
import { Check, fail, formatChecks } from "../checks/result";
import { NO_STATE, readStackState } from "../checks/stackState";
import { CUTOVER_SECRET_KEY } from "../components/schema/schema";
import { command, Io, main, optional, required, text, projectDirOption } from "./args";

export const preflightCommand = command({
    spec: {
        name: "preflight",
        summary:
            "Checks, before `pulumi up`, what would make it fail: AWS credentials and region, the VPC, subnets, security group, certificate and zones, names no other stack file claims, existing records and roles that need adoption (and what adopting them changes; with --state, what the stack already holds is its own), the cutover step from the hand-made canary and what would fail it, egress from the private subnets, the AMI parameter and the receiver artifact, and the database reachable with the admin user's privileges. One line each.",
        options: {
            stack: required("<name>", "stack to check (Pulumi.<name>.yaml)", text),
            state: optional(
                "<file|->",
                "the stack's state, `pulumi stack export` output (- for stdin): what it already holds is its own, not an obstacle",
                text,
            ),
            "project-dir": projectDirOption,
        },
        examples: [
            'PULUMI_CONFIG=\'{"receiver-tier:postgresAdminPassword":"..."}\' npm run -s preflight -- --stack canary',
            "pulumi stack export --stack canary | npm run -s preflight -- --stack canary --state -",
        ],
        exitCodes: ["1  something would fail `pulumi up`"],
    },
    run: (values, io) => preflight(values.stack, values.state, values["project-dir"], io),
});

/** What would make `pulumi up --stack <name>` fail, checked before it runs: one line each, exit 1 on any. */
async function preflight(stack: string, stateFile: string | undefined, projectDir: string, io: Io): Promise<number> {
    const stackFile = readStackFile(projectDir, stack);
    const state = stateFile === undefined ? NO_STATE : readStackState(stateFile, stack);
    const { config } = loadStackConfig(stackFile);
    // The AWS SDK and the database client load only for a real run, not for --help.
    const [{ awsChecks, awsClients }, { databaseChecks }, { cutoverChecks }] = await Promise.all([
        import("../checks/preflightAws"),
        import("../checks/preflightDatabase"),
        import("../checks/preflightCutover"),
    ]);
    const checks: Check[] = endpointChecks(stack, { ...projectStacks(projectDir), [stack]: config });
    if (config.platform === "aws") {
        const region = typeof stackFile.all["aws:region"] === "string" ? (stackFile.all["aws:region"] as string) : undefined;
        checks.push(...(await awsChecks(config, stack, state, region, awsClients(region ?? "us-east-1"))));
    }
    const password = lookupSecret(stackFile, stack, "postgresAdminPassword", process.env);
    if ("missing" in password) {
        checks.push(fail(password.missing));
    } else {
        const pg = config.postgres;
        const admin = {
            host: pg.host,
            port: pg.port,
            user: pg.adminUser,
            password: password.value,
            database: pg.database,
            sslmode: pg.sslmode,
            sslrootcert: pg.caBundle,
        };
        checks.push(...(await databaseChecks(config, stack, state, admin)));
        const legacy = lookupSecret(stackFile, stack, CUTOVER_SECRET_KEY, process.env);
        checks.push(...(await cutoverChecks(config, stack, state, admin, "value" in legacy ? legacy.value : undefined)));
    }
    io.stdout(formatChecks(checks));
    const failed = checks.filter((c) => !c.passed).length;
    io.stdout(failed === 0 ? `preflight ${stack}: nothing found that would fail\n` : `preflight ${stack}: ${failed} problem(s)\n`);
    return failed === 0 ? 0 : 1;
}

if (require.main === module) main(preflightCommand);
