import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PlanDiff } from "../../../../offline/diff";
import { diffMarkdown } from "../../../../offline/markdown";
import { runScript } from "../../scripts/runScript";
import { PROJECT_DIR } from "../../support/stackConfig";

let repo: string;

const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@localhost", ...args], { cwd: repo });
/** The plan command as `npm run plan` starts it, in the throwaway repository. */
const planProcess = (args: readonly string[]) => runScript("scripts/plan.ts", args, { cwd: repo });
const plan = (...args: string[]) => {
    const result = planProcess(["--stack", "canary", ...args]);
    if (result.status !== 0) throw new Error(`plan failed (exit ${result.status}): ${result.stderr}`);
    return result.stdout;
};

// A throwaway repository holding this working tree, so the test sees uncommitted work too.
beforeAll(() => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-plan-test-"));
    const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: PROJECT_DIR })
        .toString("utf8")
        .split("\n")
        .filter(Boolean);
    for (const file of files) {
        if (!fs.existsSync(path.join(PROJECT_DIR, file))) continue;
        fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
        fs.copyFileSync(path.join(PROJECT_DIR, file), path.join(repo, file));
    }
    fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(repo, "node_modules"));
    git("init", "-q");
    git("add", "-A");
    git("commit", "-qm", "base");
    const stackFile = path.join(repo, "Pulumi.canary.yaml");
    const edited = fs.readFileSync(stackFile, "utf8").replace("min_pool_size: 5", "min_pool_size: 3");
    fs.writeFileSync(stackFile, edited);
    git("commit", "-qam", "smaller warm pool");
});

afterAll(() => {
    fs.rmSync(repo, { recursive: true, force: true });
});

// Each diff runs two plans, each a child process running the whole program.
describe("npm run plan --diff between two commits", { timeout: 120_000 }, () => {
    it("shows a one-setting change between two commits as that ini line and nothing else", () => {
        const diff = JSON.parse(plan("--diff", "HEAD~1", "--format", "json")) as PlanDiff;
        expect(diff.added).toEqual([]);
        expect(diff.removed).toEqual([]);
        expect(diff.outputs).toEqual([]);
        expect(diff.changed.map((c) => [c.name, c.changes.map((change) => change.path)])).toEqual([
            ["canary-pgbouncer-ini", ["insecureValue"]],
        ]);
        // The command prints this function's output for --format md; a second run would only repeat the plans.
        const markdown = diffMarkdown(diff);
        expect(markdown).toContain("**0 to replace, 1 to update, 0 to add, 0 to remove**");
        const diffLines = markdown.split("\n").filter((line) => /^[-+][a-z_]+ = /.test(line));
        expect(diffLines).toEqual(["-min_pool_size = 5", "+min_pool_size = 3"]);
    });
});

/** Runs the plan on a working tree edited by `edit`, restoring the commit afterwards. */
function planEdited(edit: () => void, ...args: string[]) {
    edit();
    try {
        return planProcess(args);
    } finally {
        git("checkout", "-q", "--", ".");
        git("clean", "-qfd", "--exclude=node_modules");
    }
}

const editFile = (file: string, change: (text: string) => string) =>
    fs.writeFileSync(path.join(repo, file), change(fs.readFileSync(path.join(repo, file), "utf8")));

describe("npm run plan --diff, what an update would do", { timeout: 120_000 }, () => {
    it("marks the PgBouncer hosts whose script changed as rolled, rolls the receivers, and fails on pool_mode session with the rule named", () => {
        const result = planEdited(
            () => {
                editFile("files/pgbouncer/apply-config.sh", (text) => `${text}\n# a changed host script\n`);
                editFile("Pulumi.canary.yaml", (text) =>
                    text.replace("      timeout: 30\n", "      timeout: 45\n").replace("pool_mode: transaction", "pool_mode: session"),
                );
            },
            "--stack",
            "canary",
            "--diff",
            "HEAD",
            "--format",
            "json",
        );
        expect(result.status, result.stderr).toBe(3);
        expect(result.stderr).toMatch(/mandatory: pgbouncer-transaction-pooling: canary-pgbouncer-ini .*pool_mode = session/);
        const diff = JSON.parse(result.stdout) as PlanDiff;
        // Hosts in auto scaling groups: a new template version rolls them one by one, nothing is replaced at once.
        expect(diff.changed.filter((c) => c.action === "replace")).toEqual([]);
        expect(diff.changed.find((c) => c.name === "canary-pgbouncer-hosts-lt")).toMatchObject({
            action: "update",
            rolls: ["canary-pgbouncer-hosts-asg"],
        });
        expect(diff.changed.find((c) => c.name === "canary-receivers-hosts-lt")).toMatchObject({
            action: "update",
            rolls: ["canary-receivers-hosts-asg"],
        });
        expect(diff.violations.map((v) => [v.policy, v.resource])).toEqual([["pgbouncer-transaction-pooling", "canary-pgbouncer-ini"]]);
        const markdown = diffMarkdown(diff);
        expect(markdown).toMatch(
            /\*\*0 to replace, \d+ to update, 0 to add, 0 to remove; rolls `canary-pgbouncer-hosts-asg`, `canary-receivers-hosts-asg` \(instance refresh\)\*\*/,
        );
        expect(markdown).toContain("**mandatory** `pgbouncer-transaction-pooling` on `canary-pgbouncer-ini`");
    });

    it("shows a stack that is new in the working tree as all added, without failing", () => {
        const result = planEdited(
            () => fs.copyFileSync(path.join(repo, "Pulumi.canary.yaml"), path.join(repo, "Pulumi.fresh.yaml")),
            "--stack",
            "fresh",
            "--diff",
            "HEAD",
            "--format",
            "json",
        );
        expect(result.status, result.stderr).toBe(0);
        const diff = JSON.parse(result.stdout) as PlanDiff;
        expect(diff.added.length).toBeGreaterThan(20);
        expect([diff.changed, diff.removed]).toEqual([[], []]);
    });
});
