import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PlanDiff } from "../../scripts/plan/diff";
import { changedHunks, lineDiff } from "../../scripts/plan/flatten";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");
const tsx = path.join(PROJECT_DIR, "node_modules", ".bin", "tsx");
let repo: string;

const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@localhost", ...args], { cwd: repo });
const plan = (...args: string[]) =>
    execFileSync(tsx, ["scripts/plan.ts", "--stack", "canary", ...args], { cwd: repo, maxBuffer: 64 * 1024 * 1024 }).toString("utf8");

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

// Each plan is a child process running the whole program; a diff runs two.
describe("npm run plan", { timeout: 120_000 }, () => {
    it("lists every resource with secrets masked, in a stable order", () => {
        const first = plan("--format", "json");
        expect(plan("--format", "json")).toBe(first);
        const parsed = JSON.parse(first) as {
            resources: { type: string; name: string; parent: string; inputs: Record<string, unknown> }[];
        };
        const userlist = parsed.resources.find((r) => r.name === "canary-pgbouncer-userlist");
        expect(userlist?.inputs.value).toBe("[secret]");
        expect(userlist?.parent).toBe("receiver-tier:aws:PgbouncerFleet canary-pgbouncer");
        expect(first).not.toMatch(/SCRAM-SHA-256\$|plan-placeholder/);
    });

    it("shows a one-setting change between two commits as that ini line and nothing else", () => {
        const diff = JSON.parse(plan("--diff", "HEAD~1", "--format", "json")) as PlanDiff;
        expect(diff.added).toEqual([]);
        expect(diff.removed).toEqual([]);
        expect(diff.outputs).toEqual([]);
        expect(diff.changed.map((c) => [c.name, c.changes.map((change) => change.path)])).toEqual([
            ["canary-pgbouncer-ini", ["insecureValue"]],
        ]);
        const markdown = plan("--diff", "HEAD~1");
        expect(markdown).toContain("**0 to replace, 1 to update, 0 to add, 0 to remove**");
        const diffLines = markdown.split("\n").filter((line) => /^[-+][a-z_]+ = /.test(line));
        expect(diffLines).toEqual(["-min_pool_size = 5", "+min_pool_size = 3"]);
    });

    it("refuses a ref that predates it", () => {
        expect(() => plan("--diff", "does-not-exist")).toThrow();
    });
});

describe("line diff", () => {
    it("keeps common lines and marks the rest", () => {
        expect(lineDiff("a\nb\nc", "a\nx\nc")).toEqual([
            [" ", "a"],
            ["-", "b"],
            ["+", "x"],
            [" ", "c"],
        ]);
        expect(changedHunks(lineDiff("1\n2\n3\n4\n5\n6", "1\n2\n3\n4\n5\n7"), 1)).toEqual([" 5", "-6", "+7"]);
    });
});
