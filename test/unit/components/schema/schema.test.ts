import { describe, expect, it } from "vitest";
import { parseTierConfig, projectConfig } from "../../../../components/config/load";
import { ConfigError } from "../../../../components/schema/problems";
import { readStackFile } from "../../../../components/config/stackFile";
import { canaryRaw, Edit, edited, PROJECT_DIR, problemKeys, refusedProblems, shippedCanaryRaw } from "../../support/stackConfig";

const refusedAt = (...edits: Edit[]) => problemKeys(refusedProblems(edited(canaryRaw(), ...edits)));

describe("unknown keys", () => {
    it("names a misspelt PgBouncer setting by its full key path", () => {
        expect(refusedAt(["pgbouncer.settings.default_poolsize", 30])).toEqual([
            "receiver-tier:pgbouncer.settings.default_poolsize (error)",
        ]);
    });

    it("names a misspelt top-level key and a misspelt Gunicorn setting", () => {
        expect(refusedAt(["recevier", { instances: 2 }], ["receiver.gunicorn.max_request", 1000])).toEqual([
            "receiver-tier:receiver.gunicorn.max_request (error)",
            "receiver-tier:recevier (error)",
        ]);
    });

    it("reports a typo and two rule errors together in one ConfigError", () => {
        const raw = edited(
            canaryRaw(),
            ["pgbouncer.settings.default_poolsize", 30],
            ["pgbouncer.settings.reserve_pool_timeout", 5],
            ["sender.burstLimit", 5],
        );
        let thrown: unknown;
        try {
            parseTierConfig(raw);
        } catch (err) {
            thrown = err;
        }
        expect(thrown).toBeInstanceOf(ConfigError);
        const error = thrown as ConfigError;
        expect(problemKeys(error.problems)).toEqual([
            "receiver-tier:pgbouncer.settings.default_poolsize (error)",
            "receiver-tier:pgbouncer.settings.reserve_pool_timeout (error)",
            "receiver-tier:sender.burstLimit (error)",
        ]);
        expect(error.message).toContain("3 problems");
        for (const problem of error.problems) {
            expect(error.message).toContain(`error: ${problem.path}: ${problem.message}`);
        }
    });
});

describe("schema type errors name their key path", () => {
    const cases: readonly { readonly what: string; readonly edit: Edit; readonly path: string }[] = [
        {
            what: "a word where PgBouncer wants a number",
            edit: ["pgbouncer.settings.max_client_conn", "lots"],
            path: "pgbouncer.settings.max_client_conn",
        },
        { what: "a fractional worker count", edit: ["receiver.gunicorn.workers", 1.5], path: "receiver.gunicorn.workers" },
        { what: "an unknown pool_mode", edit: ["pgbouncer.settings.pool_mode", "sessionn"], path: "pgbouncer.settings.pool_mode" },
        {
            what: "an auth_type PgBouncer cannot pass through",
            edit: ["pgbouncer.settings.auth_type", "plain"],
            path: "pgbouncer.settings.auth_type",
        },
        {
            what: "a duration PostgreSQL would not read",
            edit: ["receiverRole.statementTimeout", "5 seconds"],
            path: "receiverRole.statementTimeout",
        },
        { what: "a role name that is not an SQL identifier", edit: ["receiverRole.name", "Webhook-Receiver"], path: "receiverRole.name" },
        { what: "a port out of range", edit: ["postgres.port", 70000], path: "postgres.port" },
        {
            what: "a log flag other than 0 or 1",
            edit: ["pgbouncer.settings.log_connections", 2],
            path: "pgbouncer.settings.log_connections",
        },
        {
            what: "one bad element of a list",
            edit: ["aws.privateSubnetIds", ["subnet-0c0ffee0c0ffee011", "bogus"]],
            path: "aws.privateSubnetIds[1]",
        },
        { what: "a missing platform", edit: ["platform", undefined], path: "platform" },
    ];
    for (const c of cases) {
        it(`refuses ${c.what} at receiver-tier:${c.path}`, () => {
            expect(refusedAt(c.edit)).toEqual([`receiver-tier:${c.path} (error)`]);
        });
    }

    it("reports every type error at once", () => {
        expect(refusedAt(["pgbouncer.port", "6432x"], ["sender.maxQps", 0], ["monitor.role", "bad role"])).toEqual([
            "receiver-tier:monitor.role (error)",
            "receiver-tier:pgbouncer.port (error)",
            "receiver-tier:sender.maxQps (error)",
        ]);
    });
});

describe("projectConfig: config as the Pulumi engine passes it", () => {
    it("decodes JSON-string values, keeps plain strings, and leaves out secrets and other namespaces", () => {
        const raw = projectConfig({
            "aws:region": "us-east-1",
            "receiver-tier:platform": "aws",
            "receiver-tier:pgbouncer": '{"hosts":2,"settings":{"ignore_startup_parameters":["extra_float_digits","options"]}}',
            "receiver-tier:aws": ' {"privateSubnetIds":["subnet-1"]}',
            "receiver-tier:receiverPasswordA": "s3cret",
            "receiver-tier:statsPasswordB": '{"not":"decoded"}',
        });
        expect(raw).toEqual({
            platform: "aws",
            pgbouncer: { hosts: 2, settings: { ignore_startup_parameters: ["extra_float_digits", "options"] } },
            aws: { privateSubnetIds: ["subnet-1"] },
        });
    });

    it("validates a whole stack passed as JSON strings exactly like the same stack read from YAML", () => {
        const { all } = readStackFile(PROJECT_DIR, "canary");
        const asPulumiPassesIt = Object.fromEntries(
            Object.entries(all).map(([key, value]) => [key, typeof value === "object" ? JSON.stringify(value) : String(value)]),
        );
        const fromEngine = parseTierConfig(projectConfig(asPulumiPassesIt)).config;
        expect(fromEngine).toEqual(parseTierConfig(shippedCanaryRaw()).config);
        expect(fromEngine.pgbouncer.settings.default_pool_size).toBe(10);
        expect(fromEngine.cutover?.legacyServerConnections).toBe(35);
        expect(fromEngine.receiverRole.logins).toEqual({ active: "a", standby: "closed" });
    });

    it("keeps text that only looks like JSON, so the schema can name the key", () => {
        const raw = projectConfig({ "receiver-tier:platform": "aws", "receiver-tier:sender": "{maxQps: 10" });
        expect(raw.sender).toBe("{maxQps: 10");
        expect(problemKeys(refusedProblems({ ...canaryRaw(), sender: raw.sender }))).toEqual(["receiver-tier:sender (error)"]);
    });
});

describe("defaults", () => {
    it("verify PostgreSQL's certificate and serve TLS to receivers, so a stack without a CA bundle is refused by name", () => {
        const problems = refusedProblems({ platform: "docker", pgbouncer: { hosts: 1 } });
        expect(problemKeys(problems)).toEqual([
            "receiver-tier:pgbouncer.settings.client_tls_sslmode (error)",
            "receiver-tier:pgbouncer.settings.server_tls_sslmode (error)",
            "receiver-tier:postgres.sslmode (error)",
        ]);
    });

    it("fill an almost empty stack with the runbook's coherent values and the documented deviations", () => {
        const { config, warnings } = parseTierConfig({
            platform: "docker",
            postgres: { sslmode: "disable" },
            pgbouncer: { hosts: 1, settings: { server_tls_sslmode: "disable", client_tls_sslmode: "disable" } },
        });
        expect(warnings).toEqual([]);
        expect(config.pgbouncer.settings).toMatchObject({
            pool_mode: "transaction",
            max_client_conn: 500,
            default_pool_size: 25,
            reserve_pool_size: 10,
            min_pool_size: 5,
            server_idle_timeout: 30,
            query_wait_timeout: 3,
            log_connections: 1,
            log_disconnections: 1,
            log_pooler_errors: 1,
            // Deviations from the runbook (README "Deviations from the runbook").
            auth_type: "scram-sha-256",
            reserve_pool_timeout: 1,
            query_timeout: 10,
            idle_transaction_timeout: 8,
            server_lifetime: 300,
            server_connect_timeout: 2,
            tcp_user_timeout: 5000,
            dns_max_ttl: 5,
            ignore_startup_parameters: ["extra_float_digits", "options"],
        });
        expect(config.receiverRole).toEqual({
            name: "webhook_receiver",
            logins: { active: "a", standby: "closed" },
            statementTimeout: "5s",
            idleInTransactionSessionTimeout: "10s",
        });
        expect(config.postgres).toMatchObject({ host: "postgres-primary.internal", port: 5432, database: "deltacrown" });
        expect(config.pgbouncer).toMatchObject({
            port: 6432,
            databaseAlias: "deltacrown_receiver",
            statsUser: "pgbouncer_stats",
            statsLogins: { active: "a", standby: "closed" },
        });
        expect(config.receiver.gunicorn).toMatchObject({
            workers: 2,
            worker_class: "sync",
            timeout: 30,
            max_requests: 1000,
            max_requests_jitter: 50,
        });
        expect(config.receiver.gunicorn.worker_connections).toBeUndefined();
        expect(config.receiver.gunicorn.keepalive).toBeUndefined();
    });
});
