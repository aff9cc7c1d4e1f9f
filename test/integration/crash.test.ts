import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retryBudgetSeconds } from "../../components/model/answerDeadline";
import { crashWindowSeconds } from "../../components/model/crashWindow";
import { childPids, loadTierConfig, postWebhook, sleep, startTier, Tier, timed } from "../../harness";

// Issue 22 (b): the primary killed (SIGKILL to the postmaster and every backend, as a crashed machine), its
// synchronous standby promoted once the receiver's retry budget is spent (a promotion within it costs the
// senders nothing: 0 non-202 measured at 1 s) and PgBouncer repointed, as an operator's failover does, under 20
// concurrent signed senders. Every answer is 202 or 503 + Retry-After; the 503s end within the configured crash
// window after the repoint; every 202 is on the new primary; every 503'd delivery sent again is accepted.

const SENDERS = 20;
const PAUSE_BETWEEN_POSTS_MS = 10;
const MAX_POSTS_PER_SENDER = 1000;
const TAIL_MS = 6000;

interface Answer {
    readonly key: string;
    readonly at: number;
    readonly seconds: number;
    readonly status: number;
    readonly retryAfter?: string;
}

describe("a primary crash with a synchronous standby, under 20 concurrent senders", () => {
    const cfg = loadTierConfig("local", {
        receiver: { gunicorn: { workers: 2, worker_class: "gthread", threads: SENDERS }, dbPool: { max: SENDERS, min: 1 } },
    });
    const senderTimeoutMs = cfg.sender.requestTimeoutSeconds * 1000;
    const promoteAfterMs = (retryBudgetSeconds(cfg) + 1) * 1000;
    let tier: Tier;

    beforeAll(async () => {
        tier = await startTier({ cfg, gunicorn: true, standby: true });
    }, 120_000);
    afterAll(async () => {
        await tier?.stop();
    });

    const post = (key: string) =>
        timed(() =>
            postWebhook({
                port: tier.proxy?.port ?? 0,
                signing: tier.signing,
                source: "crash",
                body: JSON.stringify({ key }),
                deliveryId: key,
                timeoutMs: senderTimeoutMs,
            }),
        );

    it("costs only 503 + Retry-After within the crash window, keeps every 202, and accepts every resend", async () => {
        const standby = tier.standby;
        if (standby === undefined) throw new Error("no standby");
        const answers: Answer[] = [];
        let stop = false;
        const senders = Array.from({ length: SENDERS }, async (_, sender) => {
            for (let n = 0; !stop && n < MAX_POSTS_PER_SENDER; n++) {
                const key = `crash-${sender}-${n}`;
                const res = await post(key);
                answers.push({
                    key,
                    at: Date.now(),
                    seconds: res.seconds,
                    status: res.value?.status ?? 0,
                    retryAfter: res.value?.headers["retry-after"] as string | undefined,
                });
                await sleep(PAUSE_BETWEEN_POSTS_MS);
            }
        });
        let repointedAt = 0;
        try {
            await sleep(1000);
            const postmaster = tier.postgres.pid();
            if (postmaster === undefined) throw new Error("primary not running");
            for (const pid of [postmaster, ...childPids(postmaster)]) process.kill(pid, "SIGKILL");
            await sleep(promoteAfterMs);
            await standby.promote();
            await tier.pgbouncer.repoint(standby.host, standby.port);
            repointedAt = Date.now();
            await sleep(TAIL_MS);
        } finally {
            stop = true;
            await Promise.all(senders);
        }

        const refused = answers.filter((a) => a.status === 503);
        const lastRefusal = Math.max(repointedAt, ...refused.map((a) => a.at));
        const counts = answers.reduce<Record<string, number>>((c, a) => ({ ...c, [a.status]: (c[a.status] ?? 0) + 1 }), {});
        console.log(
            `crash: ${answers.length} posts ${JSON.stringify(counts)}, slowest ${Math.max(...answers.map((a) => a.seconds)).toFixed(2)} s, ` +
                `last 503 ${((lastRefusal - repointedAt) / 1000).toFixed(2)} s after the repoint (window ${crashWindowSeconds(cfg)} s)`,
        );
        expect(answers.filter((a) => a.status !== 202 && a.status !== 503).map((a) => `${a.key}: ${a.status}`)).toEqual([]);
        expect(refused.filter((a) => a.retryAfter !== String(cfg.receiver.webhooks.retryAfterSeconds))).toEqual([]);
        expect(Math.max(...answers.map((a) => a.seconds))).toBeLessThan(cfg.sender.requestTimeoutSeconds);
        expect(refused.length).toBeGreaterThan(0); // promoted after the retry budget: the window is exercised
        expect((lastRefusal - repointedAt) / 1000).toBeLessThanOrEqual(crashWindowSeconds(cfg));

        const storedKeys = async () =>
            (
                await standby.query<{ key: string }>(
                    `SELECT payload->>'key' AS key FROM ${cfg.receiverRole.name}.webhook_events WHERE source = 'crash'`,
                    cfg.postgres.database,
                )
            ).map((r) => r.key);
        const kept = new Set(await storedKeys());
        expect(answers.filter((a) => a.status === 202 && !kept.has(a.key)).map((a) => a.key)).toEqual([]);

        const resent = await Promise.all(refused.map(async (a) => (await post(a.key)).value?.status));
        expect(resent.filter((status) => status !== 202)).toEqual([]);
        const after = await storedKeys();
        expect(after.length).toBe(new Set(after).size);
        expect(new Set(after)).toEqual(new Set(answers.map((a) => a.key)));
    }, 120_000);
});
