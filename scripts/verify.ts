import * as path from "path";
import { loadStackConfig, readStackFile, readTierSecrets } from "../components/config/stackFile";
import { postgresEndpoint, renderEndpoints } from "../components/render/endpoints";
import { command, existingDirectory, hostPort, httpUrl, main, oneOf, optional, required, text, withDefault } from "./args";
import { checklistJson, Endpoints, formatChecklist, runChecklist } from "./verify/checklist";

const PROJECT_DIR = path.resolve(__dirname, "..");

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
            format: withDefault("<text|json>", "output format", oneOf(["text", "json"] as const), "text"),
            "project-dir": withDefault(
                "<dir>",
                "directory holding Pulumi.<name>.yaml",
                existingDirectory,
                PROJECT_DIR,
                "the repository root",
            ),
        },
        examples: [
            `PULUMI_CONFIG='{"receiver-tier:receiverPassword":"...",...}' npm run -s verify -- --stack canary`,
            "npm run -s verify -- --stack local --pgbouncer 127.0.0.1:6432 --health-url http://127.0.0.1:8000/webhooks/health --format json > verify.json",
        ],
        exitCodes: ["1  a check failed", "3  the checklist could not run (invalid config, missing secrets)"],
    },
    errorExitCode: 3,
    async run(values, io) {
        const stackFile = readStackFile(values["project-dir"], values.stack);
        const { config } = loadStackConfig(stackFile);
        const secrets = readTierSecrets(stackFile, values.stack, process.env, config.platform);
        // The same function computes the stack outputs, so these defaults are what `pulumi stack output` shows.
        const outputs = renderEndpoints(config);
        const endpoints: Endpoints = {
            pgbouncer: values.pgbouncer ?? hostPort(outputs.pgbouncerEndpoint, "the stack's pgbouncerEndpoint"),
            postgres: values.postgres ?? hostPort(postgresEndpoint(config), "the stack's postgres endpoint"),
            healthUrl: values["health-url"] ?? outputs.healthUrl,
        };
        io.progress(`checking stack ${values.stack} at ${endpoints.pgbouncer.host}:${endpoints.pgbouncer.port} and ${endpoints.healthUrl}`);
        const results = await runChecklist(config, secrets, endpoints);
        io.stdout(values.format === "json" ? checklistJson(values.stack, results) : formatChecklist(values.stack, results));
        return results.every((r) => r.passed) ? 0 : 1;
    },
});

if (require.main === module) main(verifyCommand);
