import { execFile } from "child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminLogins, loginPassword } from "../../components/model/logins";
import { CONFIG_NAMESPACE } from "../../components/schema/schema";
import { writeInventory } from "../../switchover/inventory";
import { loadTierConfig, postWebhook, sleep, startTier, Tier, tierInventory, timed } from "../../harness";
import { PROJECT_DIR } from "../../runtime/projectDir";

// Issue 22 (a) and (c): `npm run switchover` as a user runs it, under 20 concurrent signed senders through nginx:
// every answer 202, the slowest under 2.5 s, every acknowledged delivery on the new primary. The trap: a PAUSE
// that a transaction holds past its timeout aborts with RESUME, and the old primary keeps serving.

const SENDERS = 20;
const PAUSE_BETWEEN_POSTS_MS = 10;
const MAX_POSTS_PER_SENDER = 1000;
// The issue asks for under 2.5 s; without PAUSE clients wait in PgBouncer until it reaches the new primary, about
// 2.1-2.2 s here, so the bound that shows the PAUSE at work is tighter: with it the slowest was 0.3 s.
const MAX_LATENCY_SECONDS = 1.5;
const COMMAND_TIMEOUT_MS = 60_000;

interface Answer {
    readonly key: string;
    readonly seconds: number;
    readonly status: number;
}

interface CommandRun {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

describe("npm run switchover under 20 concurrent senders", () => {
    const cfg = loadTierConfig("local");
    let tier: Tier;
    let inventoryFile: string;

    beforeAll(async () => {
        tier = await startTier({ cfg, gunicorn: true, standby: true });
        inventoryFile = tier.sandbox.path("switchover.json");
        writeInventory(inventoryFile, tierInventory(tier, "local"));
    }, 120_000);
    afterAll(async () => {
        await tier?.stop();
    });

    /** `npm run -s switchover` with the admin login's password given as a user gives secrets offline. */
    function switchover(...args: string[]): Promise<CommandRun> {
        const login = adminLogins(cfg).active;
        const env = {
            ...process.env,
            PULUMI_CONFIG: JSON.stringify({ [`${CONFIG_NAMESPACE}:${login.passwordKey}`]: loginPassword(tier.secrets, login) }),
        };
        return new Promise((resolve) => {
            execFile(
                "npm",
                ["run", "-s", "switchover", "--", "--stack", "local", "--inventory", inventoryFile, ...args],
                { cwd: PROJECT_DIR, env, timeout: COMMAND_TIMEOUT_MS },
                (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
            );
        });
    }

    /** Senders post unique deliveries through nginx until `during` resolved and `tailMs` more passed. */
    async function underLoad(source: string, during: () => Promise<void>, tailMs: number): Promise<Answer[]> {
        const port = tier.proxy?.port ?? 0;
        const answers: Answer[] = [];
        let stop = false;
        const senders = Array.from({ length: SENDERS }, async (_, sender) => {
            for (let n = 0; !stop && n < MAX_POSTS_PER_SENDER; n++) {
                const key = `${source}-${sender}-${n}`;
                const res = await timed(() =>
                    postWebhook({
                        port,
                        signing: tier.signing,
                        source,
                        body: JSON.stringify({ key }),
                        timeoutMs: cfg.sender.requestTimeoutSeconds * 1000,
                    }),
                );
                answers.push({ key, seconds: res.seconds, status: res.value?.status ?? 0 });
                await sleep(PAUSE_BETWEEN_POSTS_MS);
            }
        });
        try {
            await sleep(1000);
            await during();
            await sleep(tailMs);
        } finally {
            stop = true;
            await Promise.all(senders);
        }
        return answers;
    }

    const statuses = (answers: readonly Answer[]) =>
        answers.reduce<Record<string, number>>((counts, a) => ({ ...counts, [a.status]: (counts[a.status] ?? 0) + 1 }), {});

    it("the dry run prints the steps with their hosts and limits and touches nothing", async () => {
        const run = await switchover("--dry-run");
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toMatch(/PAUSE \(every database\) on pgbouncer \(127\.0\.0\.1:\d+\); at most 1500 ms/);
        expect(run.stdout).toContain(`repoint ${tier.pgbouncer.iniPath}: [databases] host=127.0.0.1 port=${tier.standby?.port}`);
        expect((await tier.postgres.query("SELECT pg_is_in_recovery() AS r"))[0]?.r).toBe(false);
    });

    it("a PAUSE held by a transaction past its timeout aborts with RESUME everywhere; the primary keeps serving", async () => {
        const held = await tier.receiver();
        try {
            await held.query("BEGIN");
            await held.query("SELECT 1");
            const run = await switchover();
            expect(run.code).toBe(1);
            expect(run.stdout).toMatch(/PAUSE did not complete .*nothing was changed: primary is still the primary/);
            await held.query("COMMIT");
        } finally {
            await held.end().catch(() => undefined);
        }
        expect((await tier.postgres.query("SELECT pg_is_in_recovery() AS r"))[0]?.r).toBe(false);
        const after = await postWebhook({ port: tier.proxy?.port ?? 0, signing: tier.signing, source: "after-abort", body: '{"n":1}' });
        expect(after.status).toBe(202);
    }, 60_000);

    it("switches to the standby with every answer 202, the slowest under 1.5 s, every 202 on the new primary", async () => {
        let run: CommandRun | undefined;
        const answers = await underLoad(
            "switchover",
            async () => {
                run = await switchover();
            },
            2000,
        );
        expect(run?.code, `${run?.stdout}\n${run?.stderr}`).toBe(0);
        console.log(
            `${run?.stdout.trim()}\n${answers.length} posts ${JSON.stringify(statuses(answers))}, slowest ${Math.max(...answers.map((a) => a.seconds)).toFixed(2)} s`,
        );
        expect(statuses(answers)).toEqual({ 202: answers.length });
        expect(Math.max(...answers.map((a) => a.seconds))).toBeLessThan(MAX_LATENCY_SECONDS);
        const standby = tier.standby;
        if (standby === undefined) throw new Error("no standby");
        expect((await standby.query("SELECT pg_is_in_recovery() AS r"))[0]?.r).toBe(false);
        const stored = await standby.query<{ key: string }>(
            `SELECT payload->>'key' AS key FROM ${cfg.receiverRole.name}.webhook_events WHERE source = 'switchover'`,
            cfg.postgres.database,
        );
        const keys = new Set(stored.map((r) => r.key));
        expect(answers.filter((a) => !keys.has(a.key)).map((a) => a.key)).toEqual([]);
        expect(stored.length).toBe(answers.length);
    }, 120_000);
});
