import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTierConfig, postWebhook, startTier, Tier } from "../../harness";

// Gunicorn recycles a worker after max_requests (the runbook's 1000): the worker closes the
// connections it holds. nginx must not have sent a webhook on one of them (a reused idle upstream
// connection), because it never resends a POST: the sender would get a 503 for nothing.

const IN_FLIGHT = 50;
const REQUESTS = 2000;
/** Small, so the run recycles each worker many times. */
const MAX_REQUESTS = 100;

describe("Gunicorn worker recycling behind the rendered nginx", () => {
    const cfg = loadTierConfig("local", {
        receiver: {
            gunicorn: { workers: 2, worker_class: "gthread", threads: 32, max_requests: MAX_REQUESTS, max_requests_jitter: 10 },
            dbPool: { max: 32 },
        },
    });
    let tier: Tier;

    beforeAll(async () => {
        tier = await startTier({ cfg, gunicorn: true });
    }, 120_000);
    afterAll(async () => {
        await tier?.stop();
    });

    it(`costs the senders nothing: ${REQUESTS} deliveries at ${IN_FLIGHT} in flight, workers recycled every ~${MAX_REQUESTS}, all 202`, async () => {
        const port = tier.proxy?.port ?? 0;
        const statuses: Record<string, number> = {};
        let next = 0;
        const sender = async () => {
            while (next < REQUESTS) {
                const n = next++;
                const answer = await postWebhook({ port, signing: tier.signing, source: "recycling", body: `{"n":${n}}` }).then(
                    (r) => String(r.status),
                    () => "no answer",
                );
                statuses[answer] = (statuses[answer] ?? 0) + 1;
            }
        };
        await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
        expect(statuses).toEqual({ "202": REQUESTS });
        const [row] = await tier.postgres.query<{ rows: number }>(
            `SELECT count(*)::int AS rows FROM ${cfg.receiverRole.name}.webhook_events WHERE source = 'recycling'`,
            cfg.postgres.database,
        );
        expect(row?.rows).toBe(REQUESTS);
    }, 180_000);
});
