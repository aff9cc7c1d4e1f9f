import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerWithinSeconds } from "../../components/model/answerDeadline";
import { durabilityCheck, readReplicationState } from "../../checks/durability";
import { loadTierConfig, postWebhook, stallReplication, startTier, Tier, timed, waitFor } from "../../harness";

// Issue 22: with one synchronous standby, a 202 means the webhook is on the standby too. A stalled standby
// stalls every COMMIT: the receiver answers 503 + Retry-After by its deadline, never hangs and never says 202.
// A cancel ends a COMMIT's wait with "might not have been replicated": 503, and the resend's duplicate waits for
// the standby as well before it says 202.

const ANSWER_SLACK_SECONDS = 1.5;

describe("a synchronous standby: no 202 before the standby has the webhook", () => {
    const cfg = loadTierConfig("local", {
        receiver: { gunicorn: { workers: 2, worker_class: "gthread", threads: 8 }, dbPool: { max: 8, min: 1 } },
    });
    const deadline = answerWithinSeconds(cfg) + ANSWER_SLACK_SECONDS;
    let tier: Tier;
    let resume: (() => void) | undefined;

    beforeAll(async () => {
        tier = await startTier({ cfg, gunicorn: true, standby: true });
    }, 120_000);
    afterAll(async () => {
        resume?.();
        await tier?.stop();
    });

    const post = (source: string, key: string) =>
        timed(() =>
            postWebhook({
                port: tier.proxy?.port ?? 0,
                signing: tier.signing,
                source,
                body: JSON.stringify({ key }),
                deliveryId: key,
                timeoutMs: cfg.sender.requestTimeoutSeconds * 1000,
            }),
        );
    const stored = async (source: string) =>
        tier.postgres.query<{ key: string }>(
            `SELECT payload->>'key' AS key FROM ${cfg.receiverRole.name}.webhook_events WHERE source = $1 ORDER BY key`,
            cfg.postgres.database,
            [source],
        );
    const standby = () => {
        if (tier.standby === undefined) throw new Error("no standby");
        return tier.standby;
    };

    it("reports that acknowledged commits survive a primary crash, and not once the standby is gone", async () => {
        const verdict = async () => {
            const client = await tier.postgres.connect();
            try {
                return durabilityCheck("synchronous-standby", await readReplicationState(client));
            } finally {
                await client.end();
            }
        };
        expect(await verdict()).toMatchObject({ passed: true, detail: expect.stringMatching(/^yes: every COMMIT waits/) });
        await standby().stopServer();
        try {
            await waitFor("the standby gone from pg_stat_replication", 10_000, async () => ((await verdict()).passed ? undefined : true));
            expect((await verdict()).detail).toMatch(
                /^NO: .*0 synchronous standby\(s\) connected\); postgres.highAvailability says synchronous-standby/,
            );
        } finally {
            await standby().startServer();
            await waitFor("the standby synchronous again", 30_000, async () => ((await verdict()).passed ? true : undefined));
        }
    }, 60_000);

    it(`answers 503 + Retry-After within ${answerWithinSeconds(cfg)} s while the standby is stalled, and 202 to each resend once it is back`, async () => {
        resume = await stallReplication(standby());
        const keys = Array.from({ length: 10 }, (_, n) => `stalled-${n}`);
        const answers = await Promise.all(keys.map((key) => post("stalled", key)));
        resume();
        for (const answer of answers) {
            expect(answer.value?.status, answer.error?.message).toBe(503);
            expect(answer.value?.headers["retry-after"]).toBe(String(cfg.receiver.webhooks.retryAfterSeconds));
            expect(answer.seconds).toBeLessThan(deadline);
        }
        const resent = await Promise.all(keys.map((key) => post("stalled", key)));
        expect(resent.map((r) => r.value?.status)).toEqual(keys.map(() => 202));
        expect((await stored("stalled")).map((r) => r.key)).toEqual(keys);
    }, 60_000);

    it("answers 503, not 202, when a cancel ends the COMMIT's wait, and the resend waits for the standby too", async () => {
        resume = await stallReplication(standby());
        const first = post("cancelled", "cancelled-1");
        const waiting = await waitFor("a COMMIT waiting for the standby", 5000, async () => {
            const rows = await tier.postgres.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep'");
            return rows[0]?.pid;
        });
        await tier.postgres.query("SELECT pg_cancel_backend($1)", "postgres", [waiting]);
        const answer = await first;
        expect(answer.value?.status).toBe(503);
        expect(answer.seconds).toBeLessThan(deadline);
        // Committed on the primary, not on the standby: the resend finds it, and its own COMMIT waits for the standby.
        expect((await stored("cancelled")).map((r) => r.key)).toEqual(["cancelled-1"]);
        const duplicate = await post("cancelled", "cancelled-1");
        expect(duplicate.value?.status).toBe(503);
        expect(duplicate.seconds).toBeLessThan(deadline);
        resume();
        const resent = await post("cancelled", "cancelled-1");
        expect(resent.value?.status).toBe(202);
        expect(JSON.parse(resent.value?.body ?? "{}")).toMatchObject({ duplicate: true });
        await waitFor("the row on the standby", 5000, async () => {
            const rows = await standby().query(
                `SELECT 1 FROM ${cfg.receiverRole.name}.webhook_events WHERE source = 'cancelled'`,
                cfg.postgres.database,
            );
            return rows.length === 1 ? true : undefined;
        });
    }, 60_000);

    it("never serves a client from a node in recovery: PgBouncer pointed at the standby refuses, pointed back it serves", async () => {
        await tier.pgbouncer.repoint(standby().host, standby().port);
        try {
            const attempt = async () => {
                const client = await tier.receiver();
                try {
                    return (await client.query("SELECT pg_is_in_recovery() AS recovery")).rows[0];
                } finally {
                    await client.end().catch(() => undefined);
                }
            };
            await expect(attempt()).rejects.toThrow();
        } finally {
            await tier.pgbouncer.repoint(tier.postgres.host, tier.postgres.port);
        }
        await waitFor("the primary serving again", 10_000, async () => {
            const client = await tier.receiver();
            try {
                return (await client.query("SELECT pg_is_in_recovery() AS recovery")).rows[0]?.recovery === false ? true : undefined;
            } finally {
                await client.end().catch(() => undefined);
            }
        });
    }, 60_000);
});
