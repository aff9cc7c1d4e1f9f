import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpResponse, loadTierConfig, postWebhook, sleep, startTier, Tier } from "../../harness";
import { upstreamMaxConns } from "../../components/model/proxy";

// Issue 21 (overload is shed, not queued): nginx lets at most upstream_max_conns requests into Gunicorn
// at once. With every one of those held (a lock makes their INSERTs wait), the next requests must be
// answered 503 + Retry-After by nginx at once, not wait in Gunicorn's queue for a thread.

const THREADS = 2;
const EXTRA = 12;
/** What "at once" means for a shed request on two shared cores; a queued one waits seconds for the lock. */
const SHED_WITHIN_MS = 1000;
/** How long the held requests wait on the lock, well inside the statement timeout (5 s). */
const HOLD_MS = 2500;

describe("overload through the rendered nginx", () => {
    const cfg = loadTierConfig("local", {
        receiver: {
            gunicorn: { workers: 1, worker_class: "gthread", threads: THREADS },
            dbPool: { max: THREADS },
            nginx: { upstream_queue: 0 },
        },
    });
    let tier: Tier;
    let port: number;

    beforeAll(async () => {
        tier = await startTier({ cfg, gunicorn: true });
        port = tier.proxy?.port ?? 0;
        expect((await postWebhook({ port, signing: tier.signing, source: "overload", body: "{}" })).status).toBe(202);
    }, 120_000);
    afterAll(async () => {
        await tier?.stop();
    });

    it(`answers requests beyond upstream max_conns (${THREADS}) 503 + Retry-After within ${SHED_WITHIN_MS} ms while Gunicorn is full`, async () => {
        expect(upstreamMaxConns(cfg)).toBe(THREADS);
        const locker = await tier.postgres.connect(cfg.postgres.database);
        const post = (n: number) => {
            const started = performance.now();
            return postWebhook({ port, signing: tier.signing, source: "overload", body: `{"n":${n}}`, timeoutMs: 10_000 }).then(
                (response: HttpResponse) => ({ response, ms: performance.now() - started }),
            );
        };
        try {
            await locker.query("BEGIN");
            await locker.query(`LOCK TABLE ${cfg.receiverRole.name}.webhook_events IN ACCESS EXCLUSIVE MODE`);
            const held = Array.from({ length: THREADS }, (_, i) => post(i));
            await sleep(500); // both held requests are inside Gunicorn, waiting on the lock
            const shed = await Promise.all(Array.from({ length: EXTRA }, (_, i) => post(THREADS + i)));
            await sleep(HOLD_MS);
            await locker.query("COMMIT");
            for (const { response, ms } of shed) {
                expect(response.status).toBe(503);
                expect(response.headers["retry-after"]).toBe(String(cfg.receiver.webhooks.retryAfterSeconds));
                expect(ms).toBeLessThan(SHED_WITHIN_MS);
            }
            for (const { response } of await Promise.all(held)) expect(response.status).toBe(202);
        } finally {
            await locker.end();
        }
    }, 60_000);
});
