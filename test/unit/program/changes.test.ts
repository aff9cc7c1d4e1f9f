import { describe, expect, it, vi } from "vitest";
import { ProgramRun, runProgram } from "./mockTier";

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
    const before = await runProgram("canary");
    vi.resetModules();
    const after = await runProgram("canary", edit);
    return touched(before, after);
}

describe("what a canary config change touches", () => {
    it("a PgBouncer pool size reaches hosts by reload: the SSM ini and the role's limit change, no host", async () => {
        const diff = await compare((raw) => {
            raw.pgbouncer.settings.default_pool_size = 20;
        });
        expect(diff).toEqual({ changed: ["canary-pgbouncer-ini", "canary-postgres-receiver"], added: [], removed: [] });
    });

    it("a monitor interval reaches hosts through its SSM parameter only", async () => {
        const diff = await compare((raw) => {
            raw.monitor.intervalMinutes = 2;
        });
        expect(diff).toEqual({ changed: ["canary-pgbouncer-monitor-timer"], added: [], removed: [] });
    });

    it("another PgBouncer host adds an instance and its NLB attachment and widens the roles' limits", async () => {
        const diff = await compare((raw) => {
            raw.pgbouncer.hosts = 3;
            raw.postgres.maxConnections = 150;
        });
        expect(diff).toEqual({
            changed: ["canary-postgres-monitor", "canary-postgres-receiver"],
            added: ["canary-pgbouncer-host-3", "canary-pgbouncer-tg-3"],
            removed: [],
        });
    });

    it("more receivers change only the auto scaling group", async () => {
        const diff = await compare((raw) => {
            raw.receiver.instances = 4;
        });
        expect(diff).toEqual({ changed: ["canary-receivers-asg"], added: [], removed: [] });
    });

    // The group's launchTemplate.version is computed by AWS (a mocked constant here); the new
    // template version is what starts the instance refresh.
    it("a Gunicorn setting changes only the launch template, whose new version the group rolls out", async () => {
        const diff = await compare((raw) => {
            raw.receiver.gunicorn.timeout = 45;
        });
        expect(diff).toEqual({ changed: ["canary-receivers-lt"], added: [], removed: [] });
    });

    it("a statement timeout change reaches the role and the database setting, and nothing on the hosts", async () => {
        const diff = await compare((raw) => {
            raw.receiverRole.statementTimeout = "4s";
        });
        expect(diff).toEqual({
            changed: ["canary-postgres-database-statement-timeout", "canary-postgres-receiver"],
            added: [],
            removed: [],
        });
    });
});
