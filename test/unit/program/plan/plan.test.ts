import { describe, expect, it } from "vitest";
import { describePlan } from "../../../../offline/describe";
import { changedHunks, lineDiff } from "../../../../offline/flatten";
import { spawnSync } from "child_process";
import { TS_HOOK_NODE_ARGS } from "../../../../runtime/typeScriptChild";
import { runScript } from "../../scripts/runScript";
import { PROJECT_DIR } from "../../support/stackConfig";
import { stackRun } from "../mockTier";

// Each plan is a child process running the whole program (planDiff.test.ts has the diffs).
describe("npm run plan", { timeout: 120_000 }, () => {
    it("lists every resource with secrets masked, in a stable order, whole even into a slow pipe", () => {
        // As `npm run -s plan ... | jq` reads it: the reader starts late, so the plan (~80 KB) fills the pipe.
        const result = spawnSync(
            "bash",
            [
                "-o",
                "pipefail",
                "-c",
                `"${process.execPath}" ${TS_HOOK_NODE_ARGS.map((arg) => `"${arg}"`).join(" ")} scripts/plan.ts --stack canary --format json | (sleep 1; cat)`,
            ],
            { cwd: PROJECT_DIR, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
        );
        expect(result.status, result.stderr).toBe(0);
        const first = result.stdout;
        // Another process ran the same program with other secrets: the same plan, byte for byte.
        expect(JSON.stringify(describePlan("canary", stackRun("canary")), null, 2) + "\n").toBe(first);
        const parsed = JSON.parse(first) as {
            resources: { type: string; name: string; parent: string; inputs: Record<string, unknown> }[];
        };
        const userlist = parsed.resources.find((r) => r.name === "canary-pgbouncer-userlist");
        expect(userlist?.inputs.value).toBe("[secret]");
        expect(userlist?.parent).toBe("receiver-tier:aws:PgbouncerFleet canary-pgbouncer");
        expect(first).not.toMatch(/SCRAM-SHA-256\$|plan-placeholder/);
    });

    it("refuses a ref it cannot plan, saying why once", () => {
        const result = runScript("scripts/plan.ts", ["--stack", "canary", "--diff", "does-not-exist"]);
        expect(result.status).toBe(1);
        expect(result.stdout).toBe("");
        expect(result.stderr.match(/does-not-exist/g)?.length).toBeGreaterThan(0);
        expect(result.stderr.match(/plan failed/g)).toHaveLength(1);
        expect(result.stderr.match(/fatal:/g)).toHaveLength(1);
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
