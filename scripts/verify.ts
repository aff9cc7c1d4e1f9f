import * as fs from "fs";
import * as path from "path";
import { TierConfig } from "../components/config/schema";
import { pgbouncerServesTls } from "../components/render/tls";
import { parseTierConfig } from "../components/config/load";
import { readStackFile, readTierSecrets } from "../components/config/stackFile";
import { postgresEndpoint, renderEndpoints } from "../components/render/endpoints";
import { parseArgs, requireArg } from "./args";
import { Endpoints, formatChecklist, runChecklist } from "./verify/checklist";

const USAGE =
    "npm run verify -- --stack <name> [--pgbouncer host:port] [--pgbouncer-ca FILE] [--postgres host:port] [--health-url URL] [--project-dir DIR]";

function hostPort(text: string, flag: string): { host: string; port: number } {
    const match = /^(.+):(\d+)$/.exec(text);
    if (!match) throw new Error(`--${flag} must be host:port, got ${text}`);
    return { host: match[1] as string, port: Number(match[2]) };
}

/** PgBouncer's CA when it serves TLS: the checks verify its certificate as the receivers do. */
function pgbouncerCa(config: TierConfig, file: string | undefined): string | undefined {
    if (!pgbouncerServesTls(config)) return undefined;
    if (file === undefined || file === "true") {
        throw new Error(
            `PgBouncer serves TLS (pgbouncer.settings.client_tls_sslmode): give its CA with --pgbouncer-ca FILE, e.g. from \`pulumi stack output pgbouncerCa\`\nusage: ${USAGE}`,
        );
    }
    return fs.readFileSync(file, "utf8");
}

async function main(): Promise<number> {
    const args = parseArgs(process.argv.slice(2));
    const stack = requireArg(args, "stack", USAGE);
    const projectDir = path.resolve(args.get("project-dir") ?? path.join(__dirname, ".."));
    const stackFile = readStackFile(projectDir, stack);
    const { config } = parseTierConfig(stackFile.raw);
    const secrets = readTierSecrets(stackFile, stack, process.env);
    // The same function computes the stack outputs, so these defaults are what `pulumi stack output` shows.
    const outputs = renderEndpoints(config);
    const endpoints: Endpoints = {
        pgbouncer: hostPort(args.get("pgbouncer") ?? outputs.pgbouncerEndpoint, "pgbouncer"),
        postgres: hostPort(args.get("postgres") ?? postgresEndpoint(config), "postgres"),
        healthUrl: args.get("health-url") ?? outputs.healthUrl,
        pgbouncerCa: pgbouncerCa(config, args.get("pgbouncer-ca")),
    };
    const results = await runChecklist(config, secrets, endpoints);
    process.stdout.write(formatChecklist(stack, results));
    return results.every((r) => r.passed) ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (err: unknown) => {
        process.stderr.write(`verify failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(2);
    },
);
