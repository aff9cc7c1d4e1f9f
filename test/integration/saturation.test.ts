import { receiverLogins } from "../../components/model/logins";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endQuietly, loadTierConfig, rowsOf, startTier, Tier, timed } from "../../harness";

// Property 5: with every default-pool server connection busy, a waiting client is served from the
// reserve pool after reserve_pool_timeout; once the reserve is busy too, a waiting client is
// dropped at query_wait_timeout ("query_wait_timeout"), not later.

/** Seconds PgBouncer's periodic maintenance may add to a timeout (it checks a few times a second). */
const JANITOR_SLACK = 1.0;
const EARLY_SLACK = 0.15;

/** A client holding one server connection busy: an open transaction running pg_sleep in a loop. */
interface Holder {
    readonly client: Client;
    /** Seconds from BEGIN sent to BEGIN answered (time spent waiting for a server connection). */
    readonly waitedSeconds: number;
    release(): Promise<void>;
}

async function hold(client: Client): Promise<Holder> {
    const begin = await timed(() => client.query("BEGIN"));
    if (begin.error) throw begin.error;
    await client.query("SELECT pg_sleep(0.01)");
    let busy = true;
    // Bounded: at most 60 x 0.5 s, well under statement/idle timeouts per statement.
    const loop = (async () => {
        for (let i = 0; busy && i < 60; i++) await client.query("SELECT pg_sleep(0.5)");
    })().catch(() => undefined);
    return {
        client,
        waitedSeconds: begin.seconds,
        async release() {
            busy = false;
            await loop;
            await client.query("ROLLBACK").catch(() => undefined);
        },
    };
}

describe("pool saturation: reserve pool, then query_wait_timeout", () => {
    const cfg = loadTierConfig("local");
    const s = cfg.pgbouncer.settings;
    let tier: Tier;
    const holders: Holder[] = [];
    const clients: Client[] = [];

    const serverConnections = async () =>
        (
            await tier.postgres.query<{ n: number }>(
                "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1",
                cfg.postgres.database,
                [receiverLogins(cfg).active.name],
            )
        )[0]?.n;
    const newClient = async () => {
        const c = await tier.receiver();
        clients.push(c);
        return c;
    };

    beforeAll(async () => {
        // The relationship under test (README "Deviations from the runbook", reserve_pool_timeout): the reserve opens before waiting clients are dropped.
        expect(s.reserve_pool_size).toBeGreaterThan(0);
        expect(s.reserve_pool_timeout).toBeLessThan(s.query_wait_timeout);
        tier = await startTier({ cfg });
    });
    afterAll(async () => {
        await Promise.all(holders.map((h) => h.release()));
        await Promise.all(clients.map((c) => endQuietly(c)));
        await tier?.stop();
    });

    it(`holds all default_pool_size = ${s.default_pool_size} server connections busy`, async () => {
        for (let i = 0; i < s.default_pool_size; i++) {
            holders.push(await hold(await newClient()));
        }
        // Each got a default-pool connection without waiting for the reserve.
        expect(Math.max(...holders.map((h) => h.waitedSeconds))).toBeLessThan(s.reserve_pool_timeout);
        expect(await serverConnections()).toBe(s.default_pool_size);
    });

    it(`a waiting client is served from the reserve pool after reserve_pool_timeout = ${s.reserve_pool_timeout}s`, async () => {
        const waiting = await newClient();
        const served = await hold(waiting);
        holders.push(served);
        expect(served.waitedSeconds).toBeGreaterThan(s.reserve_pool_timeout - EARLY_SLACK);
        expect(served.waitedSeconds).toBeLessThan(s.reserve_pool_timeout + JANITOR_SLACK);
        expect(served.waitedSeconds).toBeLessThan(s.query_wait_timeout);
        // It runs on a connection beyond the default pool: a reserve connection.
        expect(await serverConnections()).toBe(s.default_pool_size + 1);
    });

    it(`the rest of the reserve fills up to default_pool_size + reserve_pool_size = ${s.default_pool_size + s.reserve_pool_size}`, async () => {
        const more = await Promise.all(Array.from({ length: s.reserve_pool_size - 1 }, async () => hold(await newClient())));
        holders.push(...more);
        expect(await serverConnections()).toBe(s.default_pool_size + s.reserve_pool_size);
        const stats = await tier.stats();
        try {
            const pool = (await rowsOf(stats, "SHOW POOLS")).find(
                (p) => p.database === cfg.pgbouncer.databaseAlias && p.user === receiverLogins(cfg).active.name,
            );
            expect(pool?.sv_active).toBe(s.default_pool_size + s.reserve_pool_size);
        } finally {
            await endQuietly(stats);
        }
    });

    it(`a client that still cannot be served is dropped at query_wait_timeout = ${s.query_wait_timeout}s, not later`, async () => {
        const late = await newClient();
        const dropped = await timed(() => late.query("SELECT 1"));
        expect(dropped.value).toBeUndefined();
        expect(dropped.error?.message).toMatch(/query_wait_timeout/);
        expect(dropped.seconds).toBeGreaterThan(s.query_wait_timeout - EARLY_SLACK);
        expect(dropped.seconds).toBeLessThan(s.query_wait_timeout + JANITOR_SLACK);
        // PgBouncer opened nothing beyond its cap meanwhile.
        expect(await serverConnections()).toBe(s.default_pool_size + s.reserve_pool_size);
    });
});
