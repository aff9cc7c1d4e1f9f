import * as fs from "fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endQuietly, httpRequest, loadTierConfig, postWebhook, rowsOf, sleep, startTier, Tier, timed, waitFor } from "../../harness";
import { renderTierFiles } from "../../components/render/tierFiles";

// Property 6: faults. A PostgreSQL restart under webhook load costs errors for a bounded time, then
// the tier recovers by itself (same PgBouncer process) and every acknowledged webhook is committed.
// A PgBouncer reload (SIGHUP: the rendered ini has no admin user) applies a new pool size
// without dropping connected clients.

const LOAD_LOOPS = 4;
const PAUSE_BETWEEN_POSTS_MS = 20;
const WARMUP_MS = 2000;
const HEALTHY_TAIL = 30; // consecutive 202s that prove recovery
const MAX_POSTS_PER_LOOP = 5000; // bound on the load even if nothing else stops it

interface Post {
    readonly key: string;
    readonly sentAt: number;
    readonly doneAt: number;
    /** HTTP status, or 0 for no HTTP answer (connection refused, reset, timeout). */
    readonly status: number;
}

describe("faults", () => {
    const cfg = loadTierConfig("local");
    const s = cfg.pgbouncer.settings;
    let tier: Tier;

    beforeAll(async () => {
        tier = await startTier({ cfg, gunicorn: true });
    });
    afterAll(async () => {
        await tier?.stop();
    });

    it("PostgreSQL restart (pg_ctl restart -m fast) under POST load: bounded errors, recovery, no PgBouncer restart, no lost webhook", async () => {
        const port = tier.gunicorn?.port ?? 0;
        const pgbouncerPid = tier.pgbouncer.pid;
        const postgresPid = tier.postgres.pid();
        const posts: Post[] = [];
        let stop = false;
        const load = Array.from({ length: LOAD_LOOPS }, async (_, loop) => {
            for (let n = 0; !stop && n < MAX_POSTS_PER_LOOP; n++) {
                const key = `${loop}-${n}`;
                const sentAt = Date.now();
                const res = await timed(() =>
                    postWebhook({ port, signing: tier.signing, source: "loadtest", body: JSON.stringify({ key }), timeoutMs: 20_000 }),
                );
                posts.push({ key, sentAt, doneAt: Date.now(), status: res.value?.status ?? 0 });
                await sleep(PAUSE_BETWEEN_POSTS_MS);
            }
        });

        try {
            await sleep(WARMUP_MS);
            const restartAt = Date.now();
            await tier.postgres.restartServer();
            const restartedAt = Date.now();
            // PgBouncer retries a failed server login after server_login_retry; a request in flight
            // may wait query_wait_timeout on top. Allow that plus a little slack, no more.
            const recoveryBudgetMs = restartedAt - restartAt + (s.server_login_retry + s.query_wait_timeout + 3) * 1000;
            await waitFor("the tier to recover after the restart", recoveryBudgetMs + 10_000, () => {
                const after = posts.filter((p) => p.sentAt > restartedAt);
                const tail = after.slice(-HEALTHY_TAIL);
                return tail.length === HEALTHY_TAIL && tail.every((p) => p.status === 202) ? true : undefined;
            });
            stop = true;
            await Promise.all(load);

            const failed = posts.filter((p) => p.status !== 202);
            const lastFailure = Math.max(restartAt, ...failed.map((p) => p.doneAt));
            console.info(
                `restart: ${posts.length} posts, ${failed.length} failed (${[...new Set(failed.map((p) => p.status))].join(",") || "none"}), ` +
                    `pg_ctl restart ${restartedAt - restartAt} ms, errors until +${lastFailure - restartAt} ms`,
            );
            // Before the restart everything was acknowledged.
            expect(posts.filter((p) => p.doneAt < restartAt).every((p) => p.status === 202)).toBe(true);
            // Errors are the app's 503 (not stored, retry), never a dead or hanging receiver.
            expect(failed.every((p) => p.status === 503)).toBe(true);
            expect(lastFailure - restartAt).toBeLessThanOrEqual(recoveryBudgetMs);

            // Same PgBouncer process throughout; PostgreSQL really restarted.
            expect(tier.pgbouncer.alive()).toBe(true);
            expect(Number(fs.readFileSync(tier.sandbox.path("pgbouncer/pgbouncer.pid"), "utf8").trim())).toBe(pgbouncerPid);
            expect(tier.postgres.pid()).toBeDefined();
            expect(tier.postgres.pid()).not.toBe(postgresPid);

            // acknowledged == committed: exactly the 202'd keys are in the table.
            const acknowledged = posts
                .filter((p) => p.status === 202)
                .map((p) => p.key)
                .sort();
            const stored = (
                await tier.postgres.query<{ key: string }>(
                    `SELECT payload->>'key' AS key FROM ${cfg.receiverRole.name}.webhook_events WHERE source = 'loadtest'`,
                    cfg.postgres.database,
                )
            )
                .map((r) => r.key)
                .sort();
            expect(acknowledged.length).toBeGreaterThan(HEALTHY_TAIL);
            expect(stored).toEqual(acknowledged);
        } finally {
            stop = true;
            await Promise.all(load);
        }
    });

    it("RELOAD (SIGHUP to the PgBouncer PID) applies a new default_pool_size; a client connected before keeps working", async () => {
        const newPoolSize = s.default_pool_size - 5;
        const changed = loadTierConfig("local", { pgbouncer: { settings: { default_pool_size: newPoolSize } } });
        const newIni = renderTierFiles(changed, tier.secrets, "local")["pgbouncer.ini"];
        expect(newIni).toMatch(new RegExp(`^default_pool_size = ${newPoolSize}$`, "m"));
        // RELOAD on the console is the operators' admin login's alone: the stats user is refused.

        const before = await tier.receiver();
        const stats = await tier.stats();
        try {
            expect(await rowsOf(before, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
            await expect(stats.query("RELOAD")).rejects.toThrow(/admin access needed/);
        } finally {
            await endQuietly(stats);
        }
        try {
            const pid = tier.pgbouncer.pid;
            await tier.pgbouncer.reload(newIni);
            await waitFor("SHOW CONFIG to show the new default_pool_size", 10_000, async () => {
                const admin = await tier.stats();
                try {
                    const row = (await rowsOf(admin, "SHOW CONFIG")).find((r) => r.key === "default_pool_size");
                    return row?.value === String(newPoolSize) ? true : undefined;
                } finally {
                    await endQuietly(admin);
                }
            });
            const admin = await tier.stats();
            try {
                const db = (await rowsOf(admin, "SHOW DATABASES")).find((d) => d.name === cfg.pgbouncer.databaseAlias);
                expect(db?.pool_size).toBe(newPoolSize);
            } finally {
                await endQuietly(admin);
            }
            // Not a restart, and the client from before the reload still works.
            expect(tier.pgbouncer.pid).toBe(pid);
            expect(tier.pgbouncer.alive()).toBe(true);
            expect(await rowsOf(before, "SELECT 2 AS two")).toEqual([{ two: 2 }]);
            // The receiver's health check reports the new pool size.
            const health = await httpRequest({ port: tier.gunicorn?.port ?? 0, method: "GET", path: cfg.receiver.healthPath });
            expect(health.status).toBe(200);
            expect((health.json as { db_pool: { max: number } }).db_pool.max).toBe(newPoolSize);
        } finally {
            await endQuietly(before);
        }
    });
});
