import { receiverLogins } from "../../components/model/logins";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverConnectionsPerHost } from "../../components/model/capacity";
import { endQuietly, loadTierConfig, rowsOf, sleep, startTier, Tier, timed } from "../../harness";

// Property 4: max_client_conn clients at once through PgBouncer against a PostgreSQL whose
// max_connections leaves exactly the configured budget: no failed transaction, server connections
// never above default_pool_size + reserve_pool_size, and client max_client_conn + 1 is refused at once.

const OTHER_CLIENTS = 2; // the harness's sampler and an operator, beside PgBouncer
const TRANSACTIONS_PER_CLIENT = 4;
const CONNECT_CONCURRENCY = 100;

/** Runs fn over items with at most `limit` in flight. */
async function inBatches<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = [];
    for (let i = 0; i < items.length; i += limit) {
        results.push(...(await Promise.all(items.slice(i, i + limit).map(fn))));
    }
    return results;
}

describe("burst of max_client_conn clients through PgBouncer", () => {
    const base = loadTierConfig("local");
    // PostgreSQL gets exactly PgBouncer's budget + the superuser reserve + OTHER_CLIENTS slots.
    const maxConnections =
        base.pgbouncer.hosts * serverConnectionsPerHost(base) + base.postgres.superuserReservedConnections + OTHER_CLIENTS;
    const cfg = loadTierConfig("local", { postgres: { maxConnections, reservedForOtherClients: OTHER_CLIENTS } });
    const s = cfg.pgbouncer.settings;
    const serverCap = s.default_pool_size + s.reserve_pool_size;
    let tier: Tier;
    const clients: Client[] = [];

    beforeAll(async () => {
        expect(s.max_client_conn).toBe(500);
        tier = await startTier({ cfg });
        // A table of the test's own in the receiver's schema, made by the superuser: the logins may not create tables.
        const schema = cfg.receiverRole.name;
        await tier.postgres.query(
            `CREATE TABLE ${schema}.burst_events (client int NOT NULL, t int NOT NULL); GRANT INSERT, SELECT ON ${schema}.burst_events TO ${schema};`,
            cfg.postgres.database,
        );
    });
    afterAll(async () => {
        await Promise.all(clients.map((c) => endQuietly(c)));
        await tier?.stop();
    });

    it(`PostgreSQL runs with max_connections = ${maxConnections} (the configured budget)`, async () => {
        const rows = await tier.postgres.query(
            "SELECT current_setting('max_connections') AS max, current_setting('superuser_reserved_connections') AS su",
        );
        expect(rows).toEqual([{ max: String(maxConnections), su: String(cfg.postgres.superuserReservedConnections) }]);
    });

    it(`${s.max_client_conn} clients connect and run transactions with zero failures; servers stay <= ${serverCap}`, async () => {
        const indexes = Array.from({ length: s.max_client_conn }, (_, i) => i);
        const connected = await inBatches(indexes, CONNECT_CONCURRENCY, () => timed(() => tier.receiver()));
        for (const c of connected) if (c.value) clients.push(c.value);
        expect(connected.filter((c) => c.error).map((c) => c.error?.message)).toEqual([]);
        expect(clients).toHaveLength(s.max_client_conn);

        // Sample PostgreSQL's view of the receiver's server connections while the burst runs.
        const sampler = await tier.postgres.connect(cfg.postgres.database);
        let peak = 0;
        let samples = 0;
        let sampling = true;
        const sampling$ = (async () => {
            for (let i = 0; sampling && i < 2000; i++) {
                const r = await sampler.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1", [
                    receiverLogins(cfg).active.name,
                ]);
                peak = Math.max(peak, r.rows[0]?.n ?? 0);
                samples++;
                await sleep(20);
            }
        })();

        const started = Date.now();
        const outcomes = await Promise.all(
            clients.map(async (client, i) => {
                const failures: string[] = [];
                for (let t = 0; t < TRANSACTIONS_PER_CLIENT; t++) {
                    try {
                        await client.query("BEGIN");
                        await client.query("INSERT INTO burst_events (client, t) VALUES ($1, $2)", [i, t]);
                        await client.query("SELECT pg_sleep(0.02)");
                        await client.query("COMMIT");
                    } catch (err) {
                        failures.push(err instanceof Error ? err.message : String(err));
                        await client.query("ROLLBACK").catch(() => undefined);
                    }
                }
                return failures;
            }),
        );
        const burstSeconds = (Date.now() - started) / 1000;
        sampling = false;
        await sampling$;
        await endQuietly(sampler);

        console.info(`burst: ${burstSeconds.toFixed(1)} s, ${samples} samples, peak ${peak} server connections (cap ${serverCap})`);
        expect(outcomes.flat()).toEqual([]);
        const rows = await tier.postgres.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM ${cfg.receiverRole.name}.burst_events`,
            cfg.postgres.database,
        );
        expect(rows).toEqual([{ n: s.max_client_conn * TRANSACTIONS_PER_CLIENT }]);
        expect(samples).toBeGreaterThan(3);
        expect(peak).toBeLessThanOrEqual(serverCap);
        // The burst did fill the pool, so the cap (not idleness) is what held the server count.
        expect(peak).toBeGreaterThanOrEqual(s.default_pool_size);
        expect(burstSeconds).toBeLessThan(60);
    });

    it("client max_client_conn + 1 gets PgBouncer's max_client_conn error at once, not a hang", async () => {
        expect(clients).toHaveLength(s.max_client_conn);
        const extra = await timed(() => tier.receiver({ connectionTimeoutMillis: 10_000 }));
        if (extra.value) await endQuietly(extra.value);
        expect(extra.error?.message).toMatch(/no more connections allowed \(max_client_conn\)/);
        expect(extra.seconds).toBeLessThan(2);
    });

    it("SHOW POOLS (stats user, once a slot is free) agrees: nothing waiting, servers within the cap", async () => {
        const freed = clients.pop();
        if (freed) await endQuietly(freed);
        const stats = await tier.stats();
        try {
            const pools = await rowsOf(stats, "SHOW POOLS");
            const pool = pools.find((p) => p.database === cfg.pgbouncer.databaseAlias && p.user === receiverLogins(cfg).active.name);
            expect(pool).toBeDefined();
            const n = (key: string) => Number(pool?.[key]);
            expect(n("cl_active")).toBe(s.max_client_conn - 1);
            expect(n("cl_waiting")).toBe(0);
            const servers = n("sv_active") + n("sv_idle") + n("sv_used") + n("sv_tested") + n("sv_login");
            expect(servers).toBeLessThanOrEqual(serverCap);
        } finally {
            await endQuietly(stats);
        }
    });
});
