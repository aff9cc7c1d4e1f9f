import { describe, expect, it, vi } from "vitest";
import { ProgramRun, runProgram, stackRun } from "./mockTier";

type Edit = (raw: Record<string, any>) => void;

/** Names of resources whose inputs differ between two runs, plus those added or removed. */
function touched(before: ProgramRun, after: ProgramRun) {
    const index = (run: ProgramRun) => new Map(run.resources.map((r) => [`${r.type}::${r.name}`, JSON.stringify(r.inputs)]));
    const a = index(before);
    const b = index(after);
    const name = (key: string) => key.split("::")[1] as string;
    return {
        changed: [...a.keys()]
            .filter((k) => b.has(k) && a.get(k) !== b.get(k))
            .map(name)
            .sort(),
        added: [...b.keys()]
            .filter((k) => !a.has(k))
            .map(name)
            .sort(),
        removed: [...a.keys()]
            .filter((k) => !b.has(k))
            .map(name)
            .sort(),
    };
}

async function compare(edit: Edit) {
    vi.resetModules();
    const after = await runProgram("canary", edit);
    return touched(stackRun("canary"), after);
}

describe("what a canary config change touches", () => {
    it("a PgBouncer pool size reaches hosts by reload: the SSM ini and the logins' limit change, no host", async () => {
        const diff = await compare((raw) => {
            // Within the cutover's budget: the hand-made 35 + 3 x (9 + 4) = 74 of 77.
            raw.pgbouncer.settings.default_pool_size = 9;
        });
        expect(diff).toEqual({
            changed: [
                "canary-monitoring-dashboard",
                "canary-monitoring-pgbouncer-server-connections-at-cap",
                "canary-pgbouncer-ini",
                "canary-postgres-role-webhook_receiver_a",
                "canary-postgres-role-webhook_receiver_b",
            ],
            added: [],
            removed: [],
        });
    });

    it("a monitor interval reaches hosts through its SSM parameter only", async () => {
        const diff = await compare((raw) => {
            raw.monitor.intervalMinutes = 2;
        });
        expect(diff).toEqual({
            changed: ["canary-monitoring-long-running-queries", "canary-pgbouncer-monitor-timer"],
            added: [],
            removed: [],
        });
    });

    it("another PgBouncer host grows the group and widens the roles' limits", async () => {
        const diff = await compare((raw) => {
            raw.pgbouncer.hosts = 3;
            raw.postgres.maxConnections = 150;
        });
        expect(diff).toEqual({
            changed: [
                "canary-monitoring-dashboard",
                "canary-monitoring-pgbouncer-healthy-below-desired",
                "canary-pgbouncer-hosts-asg",
                "canary-postgres-role-receiver_monitor",
                "canary-postgres-role-webhook_receiver_a",
                "canary-postgres-role-webhook_receiver_b",
            ],
            added: [],
            removed: [],
        });
    });

    it("more receivers change only the auto scaling group", async () => {
        const diff = await compare((raw) => {
            raw.receiver.instances = 4;
        });
        expect(diff).toEqual({
            changed: ["canary-monitoring-dashboard", "canary-monitoring-receivers-healthy-below-desired", "canary-receivers-hosts-asg"],
            added: [],
            removed: [],
        });
    });

    // The group's launchTemplate.version is computed by AWS (a mocked constant here); the new
    // template version is what starts the instance refresh.
    it("a Gunicorn setting changes only the launch template, whose new version the group rolls out", async () => {
        const diff = await compare((raw) => {
            raw.receiver.gunicorn.timeout = 45;
        });
        expect(diff).toEqual({ changed: ["canary-receivers-hosts-lt"], added: [], removed: [] });
    });

    it("a statement timeout change reaches both logins, the database setting and the receivers' retry budget (receiver.env), nothing on PgBouncer hosts", async () => {
        const diff = await compare((raw) => {
            raw.receiverRole.statementTimeout = "4s";
        });
        expect(diff).toEqual({
            changed: [
                "canary-monitoring-dashboard",
                "canary-monitoring-receivers-p99-latency",
                "canary-postgres-database-statement-timeout",
                // The hand-made login too, while the cutover keeps it a login (README "First deploy ...").
                "canary-postgres-role-webhook_receiver",
                "canary-postgres-role-webhook_receiver_a",
                "canary-postgres-role-webhook_receiver_b",
                "canary-receivers-hosts-lt",
            ],
            added: [],
            removed: [],
        });
    });
});

describe("a change to the project's host scripts", () => {
    it("rolls the PgBouncer group through a new launch template version instead of replacing every host", async () => {
        const before = stackRun("canary");
        vi.resetModules();
        vi.doMock("../../../components/render/assets", async (importOriginal) => {
            const original = await importOriginal<typeof import("../../../components/render/assets")>();
            return {
                ...original,
                asset: (file: string) => original.asset(file) + (file === "pgbouncer/apply-config.sh" ? "# changed\n" : ""),
            };
        });
        const after = await runProgram("canary");
        vi.doUnmock("../../../components/render/assets");
        expect(touched(before, after)).toEqual({ changed: ["canary-pgbouncer-hosts-lt"], added: [], removed: [] });
        const group = after.resources.find((r) => r.name === "canary-pgbouncer-hosts-asg");
        expect(group?.inputs).toMatchObject({ instanceRefresh: { strategy: "Rolling", preferences: { autoRollback: true } } });
        expect(after.resources.filter((r) => r.type === "aws:ec2/instance:Instance")).toEqual([]);
    });
});

describe("a password rotation, step by step (README: Rotating a password)", () => {
    // Each step's config, run once and compared with the step before it (step 0 is the stack as committed).
    const steps = new Map<number, Promise<ProgramRun>>();
    const LOGINS = [undefined, { active: "a", standby: "open" }, { active: "b", standby: "open" }, { active: "b", standby: "closed" }];
    function step(n: number): Promise<ProgramRun> {
        if (n === 0) return Promise.resolve(stackRun("canary"));
        if (!steps.has(n)) {
            vi.resetModules();
            steps.set(
                n,
                runProgram("canary", (raw) => {
                    raw.receiverRole.logins = LOGINS[n];
                }),
            );
        }
        return steps.get(n) as Promise<ProgramRun>;
    }
    const stepDiff = async (n: number) => touched(await step(n - 1), await step(n));

    it("step 1, opening the standby login, reaches PgBouncer and PostgreSQL but no receiver", async () => {
        expect(await stepDiff(1)).toEqual({
            changed: ["canary-pgbouncer-userlist", "canary-postgres-role-webhook_receiver_b"],
            added: [],
            removed: [],
        });
    });

    it("step 2, switching to it, rolls the receivers and moves the PgBouncer health check; both logins still work", async () => {
        expect(await stepDiff(2)).toEqual({
            changed: ["canary-pgbouncer-health-env", "canary-pgbouncer-userlist", "canary-receivers-hosts-lt", "canary-receivers-secrets"],
            added: [],
            removed: [],
        });
    });

    it("step 3, closing the old login, removes it from PgBouncer and PostgreSQL and touches no receiver", async () => {
        expect(await stepDiff(3)).toEqual({
            changed: ["canary-pgbouncer-userlist", "canary-postgres-role-webhook_receiver_a"],
            added: [],
            removed: [],
        });
    });
});
