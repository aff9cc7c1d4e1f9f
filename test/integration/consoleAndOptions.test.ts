import { adminLogins, loginPassword, receiverLogins, statsLogins } from "../../components/model/logins";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    activeLogin,
    connectPg,
    endQuietly,
    httpRequest,
    iniSettings,
    loadTierConfig,
    postWebhook,
    rowsOf,
    run,
    startTier,
    SYSTEM_PYTHON,
    Tier,
} from "../../harness";

// Property 3: the stats user reads SHOW POOLS / SHOW CONFIG and sees the rendered values;
// the runbook's Django startup parameter `options` is accepted and ignored, the role's timeout rules.

/** Keys the harness rewrites (paths, listener); all others must reach PgBouncer exactly as rendered. */
const REWRITTEN = new Set(["listen_addr", "listen_port", "unix_socket_dir", "logfile", "pidfile", "auth_file"]);
const RUNBOOK_OPTIONS = "-c statement_timeout=5000";

describe("PgBouncer console for the stats user", () => {
    const cfg = loadTierConfig("local");
    let tier: Tier;

    beforeAll(async () => {
        tier = await startTier({ cfg });
    });
    afterAll(async () => {
        await tier?.stop();
    });

    it("SHOW CONFIG shows every rendered [pgbouncer] setting with its rendered value", async () => {
        const rendered = iniSettings(tier.files["pgbouncer.ini"]);
        const used = iniSettings(tier.pgbouncer.ini);
        // The harness changed nothing but paths and the listener.
        for (const [key, value] of rendered) {
            if (!REWRITTEN.has(key)) expect(used.get(key), key).toBe(value);
        }
        const stats = await tier.stats();
        try {
            const config = new Map((await rowsOf(stats, "SHOW CONFIG")).map((r) => [String(r.key), String(r.value)]));
            for (const [key, value] of used) {
                expect(config.get(key), `SHOW CONFIG ${key}`).toBe(value);
            }
            const s = cfg.pgbouncer.settings;
            expect(config.get("pool_mode")).toBe("transaction");
            expect(config.get("default_pool_size")).toBe(String(s.default_pool_size));
            expect(config.get("reserve_pool_size")).toBe(String(s.reserve_pool_size));
            expect(config.get("reserve_pool_timeout")).toBe(String(s.reserve_pool_timeout));
            expect(config.get("query_wait_timeout")).toBe(String(s.query_wait_timeout));
            expect(config.get("max_client_conn")).toBe(String(s.max_client_conn));
            expect(config.get("max_db_connections")).toBe(String(s.default_pool_size + s.reserve_pool_size));
            expect(config.get("stats_users")).toBe(statsLogins(cfg).active.name);
            expect(config.get("admin_users")).toBe(adminLogins(cfg).active.name);
        } finally {
            await endQuietly(stats);
        }
    });

    it("lets only the operators' admin login PAUSE and RESUME; the stats login gets 'admin access needed'", async () => {
        const admin = adminLogins(cfg).active;
        const operator = await connectPg(tier.pgbouncer, {
            user: admin.name,
            password: loginPassword(tier.secrets, admin),
            database: "pgbouncer",
        });
        const stats = await tier.stats();
        try {
            await expect(stats.query("PAUSE")).rejects.toThrow(/admin access needed/);
            await operator.query("PAUSE");
            await operator.query("RESUME");
        } finally {
            await endQuietly(stats);
            await endQuietly(operator);
        }
        const client = await tier.receiver();
        try {
            expect((await client.query("SELECT 1 AS one")).rows[0]?.one).toBe(1);
        } finally {
            await endQuietly(client);
        }
    });

    it("SHOW POOLS and SHOW DATABASES show the receiver pool with the rendered sizes", async () => {
        const client = await tier.receiver();
        const stats = await tier.stats();
        try {
            await client.query("SELECT 1");
            const pools = await rowsOf(stats, "SHOW POOLS");
            const pool = pools.find((p) => p.database === cfg.pgbouncer.databaseAlias && p.user === receiverLogins(cfg).active.name);
            expect(pool).toMatchObject({ pool_mode: "transaction", cl_active: 1, cl_waiting: 0 });
            const databases = await rowsOf(stats, "SHOW DATABASES");
            const db = databases.find((d) => d.name === cfg.pgbouncer.databaseAlias);
            expect(db).toMatchObject({
                host: "127.0.0.1",
                port: tier.postgres.port,
                database: cfg.postgres.database,
                pool_size: cfg.pgbouncer.settings.default_pool_size,
                reserve_pool: cfg.pgbouncer.settings.reserve_pool_size,
            });
        } finally {
            await endQuietly(client);
            await endQuietly(stats);
        }
    });

    it("the receiver role is not a stats user: the console refuses it", async () => {
        await expect(tier.receiver({ database: "pgbouncer" })).rejects.toThrow(/not allowed/);
    });

    it("a client sending the runbook's options='-c statement_timeout=5000' connects; the timeout stays the role's", async () => {
        for (const options of [RUNBOOK_OPTIONS, "-c statement_timeout=1234"]) {
            const client = await tier.receiver({ options });
            try {
                // 1234 ms would show as "1234ms": the parameter was dropped, the role's 5s applies.
                expect(await rowsOf(client, "SHOW statement_timeout"), options).toEqual([
                    { statement_timeout: cfg.receiverRole.statementTimeout },
                ]);
            } finally {
                await endQuietly(client);
            }
        }
    });

    it("psycopg2 with the runbook's Django OPTIONS connects and gets the role's timeout", async () => {
        const script = [
            "import json, sys, psycopg2",
            "a = json.loads(sys.argv[1])",
            "c = psycopg2.connect(host=a['host'], port=a['port'], dbname=a['db'], user=a['user'], password=a['password'], connect_timeout=3, options=a['options'])",
            "cur = c.cursor(); cur.execute('SHOW statement_timeout'); print(cur.fetchone()[0]); c.close()",
        ].join("\n");
        const args = {
            host: tier.pgbouncer.host,
            port: tier.pgbouncer.port,
            db: cfg.pgbouncer.databaseAlias,
            ...activeLogin(receiverLogins(cfg), tier.secrets),
            options: RUNBOOK_OPTIONS,
        };
        const result = await run(SYSTEM_PYTHON, ["-c", script, JSON.stringify(args)], { timeoutMs: 20_000 });
        expect(result.stderr).toBe("");
        expect(result.stdout.trim()).toBe(cfg.receiverRole.statementTimeout);
    });
});

describe("the reference receiver never sends a startup 'options' parameter", () => {
    const cfg = loadTierConfig("local");
    let tier: Tier;

    beforeAll(async () => {
        // A PgBouncer that refuses 'options' (as 1.18 does unless told to ignore it), and a libpq
        // PGOPTIONS in the app's environment that would add it: the app must still get through.
        tier = await startTier({
            cfg,
            gunicorn: true,
            appEnv: { PGOPTIONS: RUNBOOK_OPTIONS },
            tamper: (files) => ({
                ...files,
                "pgbouncer.ini": files["pgbouncer.ini"].replace(
                    /^ignore_startup_parameters = .*$/m,
                    "ignore_startup_parameters = extra_float_digits",
                ),
            }),
        });
    });
    afterAll(async () => {
        await tier?.stop();
    });

    it("this PgBouncer does refuse a client that sends options", async () => {
        await expect(tier.receiver({ options: RUNBOOK_OPTIONS })).rejects.toThrow(/unsupported startup parameter: options/);
    });

    it("the receiver app stores a webhook and reports healthy through it", async () => {
        const port = tier.gunicorn?.port ?? 0;
        expect((await postWebhook({ port, signing: tier.signing, source: "no-options", body: "{}" })).status).toBe(202);
        expect((await httpRequest({ port, method: "GET", path: cfg.receiver.healthPath })).status).toBe(200);
    });
});
