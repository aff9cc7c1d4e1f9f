import * as fs from "fs";
import { loadStackConfig, readStackFile, readTierSecrets } from "../components/config/stackFile";
import { TierConfig } from "../components/schema/schema";
import { pgbouncerServesTls } from "../components/model/tlsModes";
import { postgresEndpoint, renderEndpoints } from "../components/model/endpoints";
import { command, hostPort, httpUrl, main, oneOf, optional, required, text, UsageError, withDefault, projectDirOption } from "./args";
import { checklistJson, Endpoints, formatChecklist, runChecklist } from "../checks/verifyChecklist";

export const verifyCommand = command({
    spec: {
        name: "verify",
        summary:
            "Runs the runbook's checklist against a live tier: PgBouncer's SHOW CONFIG against the stack's config, the statement timeout through PgBouncer, SHOW POOLS, the long-running-query check and the health endpoint. Endpoints default to the stack's outputs.",
        options: {
            stack: required("<name>", "stack whose config and secrets to check against (Pulumi.<name>.yaml)", text),
            pgbouncer: optional("<host:port>", "PgBouncer to check (default: the stack's pgbouncerEndpoint)", hostPort),
            postgres: optional(
                "<host:port>",
                "PostgreSQL for the long-running-query check (default: postgres.host:postgres.port)",
                hostPort,
            ),
            "health-url": optional("<url>", "health endpoint (default: the stack's healthUrl)", httpUrl),
            "pgbouncer-ca": optional(
                "<file>",
                "PgBouncer's CA (`pulumi stack output pgbouncerCa`), required when the stack's PgBouncer serves TLS: verify-full as the receivers connect",
                text,
            ),
            outputs: optional(
                "<file|->",
                "the deployed stack's outputs as `pulumi stack output --json` prints them (- reads stdin): its pgbouncerEndpoint and healthUrl",
                text,
            ),
            format: withDefault("<text|json>", "output format", oneOf(["text", "json"] as const), "text"),
            "project-dir": projectDirOption,
        },
        examples: [
            `PULUMI_CONFIG='{"receiver-tier:receiverPasswordA":"...",...}' npm run -s verify -- --stack canary`,
            "pulumi stack output --stack canary --json | npm run -s verify -- --stack canary --outputs -",
            "npm run -s verify -- --stack local --pgbouncer 127.0.0.1:6432 --health-url http://127.0.0.1:8000/webhooks/health --format json > verify.json",
        ],
        exitCodes: ["1  a check failed", "3  the checklist could not run (invalid config, missing secrets)"],
    },
    errorExitCode: 3,
    async run(values, io) {
        const stackFile = readStackFile(values["project-dir"], values.stack);
        const { config } = loadStackConfig(stackFile);
        const secrets = readTierSecrets(stackFile, values.stack, process.env, config.platform);
        // The same function computes the stack outputs, so these defaults are what `pulumi stack output` shows;
        // --outputs takes them from the deployed stack instead, and each flag overrides both.
        const outputs = values.outputs === undefined ? renderEndpoints(config) : deployedOutputs(values.outputs);
        const endpoints: Endpoints = {
            pgbouncer: values.pgbouncer ?? hostPort(outputs.pgbouncerEndpoint, "the stack's pgbouncerEndpoint"),
            postgres: values.postgres ?? hostPort(postgresEndpoint(config), "the stack's postgres endpoint"),
            healthUrl: values["health-url"] ?? httpUrl(outputs.healthUrl, "the stack's healthUrl"),
            pgbouncerCa: pgbouncerCa(config, values["pgbouncer-ca"]),
        };
        io.progress(`checking stack ${values.stack} at ${endpoints.pgbouncer.host}:${endpoints.pgbouncer.port} and ${endpoints.healthUrl}`);
        const results = await runChecklist(config, secrets, endpoints);
        io.stdout(values.format === "json" ? checklistJson(values.stack, results) : formatChecklist(values.stack, results));
        return results.every((r) => r.passed) ? 0 : 1;
    },
});

/** PgBouncer's CA when it serves TLS: the checks verify its certificate as the receivers do. */
function pgbouncerCa(config: TierConfig, file: string | undefined): string | undefined {
    if (!pgbouncerServesTls(config)) return undefined;
    if (file === undefined) {
        throw new UsageError(
            "PgBouncer serves TLS (pgbouncer.settings.client_tls_sslmode): give its CA with --pgbouncer-ca FILE, e.g. from `pulumi stack output pgbouncerCa`",
        );
    }
    return fs.readFileSync(file, "utf8");
}

/** pgbouncerEndpoint and healthUrl from `pulumi stack output --json` (a file, or - for stdin). */
export function deployedOutputs(source: string): { pgbouncerEndpoint: string; healthUrl: string } {
    const where = source === "-" ? "stdin" : source;
    let parsed: unknown;
    try {
        parsed = JSON.parse(fs.readFileSync(source === "-" ? 0 : source, "utf8"));
    } catch (err) {
        throw new UsageError(`--outputs: cannot read stack outputs from ${where}: ${(err as Error).message}`);
    }
    const outputs = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const pick = (key: string) => {
        const value = outputs[key];
        if (typeof value !== "string") throw new UsageError(`--outputs: ${where} has no string ${key} (pulumi stack output --json)`);
        return value;
    };
    return { pgbouncerEndpoint: pick("pgbouncerEndpoint"), healthUrl: pick("healthUrl") };
}

if (require.main === module) main(verifyCommand);
