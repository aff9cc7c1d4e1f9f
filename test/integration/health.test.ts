import { receiverLogins } from "../../components/model/logins";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endQuietly, httpRequest, HttpResponse, loadTierConfig, postWebhook, rowsOf, startTier, Tier, timed, waitFor } from "../../harness";

// Property 7: GET <healthPath> answers the runbook's shape with PgBouncer's real numbers, turns
// 503/unhealthy while PostgreSQL is down and healthy again after it is back.

interface HealthBody {
    status: string;
    reason?: string;
    db_pool?: { active: number; idle: number; waiting: number; max: number };
    response_time_ms: number;
}

const EXTRA_CLIENTS = 3;

describe("receiver health check", () => {
    const cfg = loadTierConfig("local");
    const s = cfg.pgbouncer.settings;
    let tier: Tier;
    const clients: Client[] = [];
    const health = (): Promise<HttpResponse> =>
        httpRequest({ port: tier.gunicorn?.port ?? 0, method: "GET", path: cfg.receiver.healthPath, timeoutMs: 20_000 });

    beforeAll(async () => {
        tier = await startTier({ cfg, gunicorn: true });
    });
    afterAll(async () => {
        await Promise.all(clients.map((c) => endQuietly(c)));
        await tier?.stop();
    });

    it(`GET ${cfg.receiver.healthPath} answers the runbook's shape with real pool numbers`, async () => {
        expect(cfg.receiver.healthPath).toBe("/webhooks/health");
        // Other clients of the same pool, each logged in: they must show up in "active".
        for (let i = 0; i < EXTRA_CLIENTS; i++) {
            const c = await tier.receiver();
            clients.push(c);
            await c.query("SELECT 1");
        }
        const res = await health();
        expect(res.status).toBe(200);
        const body = res.json as HealthBody;
        expect(Object.keys(body)).toEqual(["status", "db_pool", "response_time_ms"]);
        expect(body.status).toBe("healthy");
        expect(Object.keys(body.db_pool ?? {})).toEqual(["active", "idle", "waiting", "max"]);
        const pool = body.db_pool as NonNullable<HealthBody["db_pool"]>;
        for (const value of Object.values(pool)) expect(Number.isInteger(value)).toBe(true);
        expect(pool.max).toBe(s.default_pool_size);
        expect(pool.waiting).toBe(0);
        // Our clients plus the answering worker's own connection; at most one per Gunicorn worker more.
        expect(pool.active).toBeGreaterThanOrEqual(EXTRA_CLIENTS + 1);
        expect(pool.active).toBeLessThanOrEqual(EXTRA_CLIENTS + cfg.receiver.gunicorn.workers * cfg.receiver.dbPool.max);
        expect(pool.idle).toBeGreaterThanOrEqual(1); // the SELECT 1 just gave its server connection back
        expect(pool.idle).toBeLessThanOrEqual(s.default_pool_size + s.reserve_pool_size);
        expect(typeof body.response_time_ms).toBe("number");
        expect(body.response_time_ms).toBeGreaterThan(0);
        expect(body.response_time_ms).toBeLessThan(5000);

        // The same numbers PgBouncer gives the stats user.
        const stats = await tier.stats();
        try {
            const db = (await rowsOf(stats, "SHOW DATABASES")).find((d) => d.name === cfg.pgbouncer.databaseAlias);
            expect(db?.pool_size).toBe(pool.max);
        } finally {
            await endQuietly(stats);
        }
    });

    it("the app keeps at most DB_CONN_MAX PgBouncer connections per Gunicorn worker", async () => {
        const port = tier.gunicorn?.port ?? 0;
        const posts = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
                postWebhook({ port, signing: tier.signing, source: "conn-check", body: JSON.stringify({ i }) }),
            ),
        );
        expect(posts.map((p) => p.status)).toEqual(Array(20).fill(202));
        const stats = await tier.stats();
        try {
            const appClients = (await rowsOf(stats, "SHOW CLIENTS")).filter(
                (c) =>
                    c.user === receiverLogins(cfg).active.name &&
                    c.database === cfg.pgbouncer.databaseAlias &&
                    c.application_name === "webhook_receiver",
            );
            expect(appClients.length).toBeGreaterThanOrEqual(1);
            expect(appClients.length).toBeLessThanOrEqual(cfg.receiver.gunicorn.workers * cfg.receiver.dbPool.max);
        } finally {
            await endQuietly(stats);
        }
    });

    it("turns 503 / unhealthy with a reason while PostgreSQL is stopped", async () => {
        await tier.postgres.stopServer();
        const res = await timed(health);
        expect(res.value?.status).toBe(503);
        const body = res.value?.json as HealthBody;
        expect(body.status).toBe("unhealthy");
        expect(body.reason).toMatch(/^database: /);
        expect(typeof body.response_time_ms).toBe("number");
        // Answered promptly: at worst PgBouncer's query_wait_timeout, not Gunicorn's timeout.
        expect(res.seconds).toBeLessThan(s.query_wait_timeout + 2);
        // Still unhealthy on the next check (not a one-off).
        expect((await health()).status).toBe(503);
    });

    it("is healthy again after PostgreSQL is started, without touching PgBouncer or Gunicorn", async () => {
        const pgbouncerPid = tier.pgbouncer.pid;
        const gunicornPid = tier.gunicorn?.pid;
        await tier.postgres.startServer();
        const startedAt = Date.now();
        // PgBouncer retries the server after server_login_retry; allow that and a query wait.
        const budgetMs = (s.server_login_retry + s.query_wait_timeout + 3) * 1000;
        const res = await waitFor(
            "health to turn 200",
            budgetMs,
            async () => {
                const r = await health();
                return r.status === 200 ? r : undefined;
            },
            250,
        );
        console.info(`health recovered ${Date.now() - startedAt} ms after PostgreSQL started`);
        const body = res.json as HealthBody;
        expect(body.status).toBe("healthy");
        expect(body.db_pool?.max).toBe(s.default_pool_size);
        expect(body.db_pool?.waiting).toBe(0);
        expect(tier.pgbouncer.pid).toBe(pgbouncerPid);
        expect(tier.pgbouncer.alive()).toBe(true);
        expect(tier.gunicorn?.pid).toBe(gunicornPid);
    });
});
