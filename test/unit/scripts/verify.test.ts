import * as http from "http";
import { AddressInfo } from "net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Io, runCommand } from "../../../scripts/args";
import { verifyCommand } from "../../../scripts/verify";
import { describeError } from "../../../checks/verifyChecklist";

// verify against endpoints on 127.0.0.1 where nothing answers (a port just closed) or only HTTP answers.

let closedPort: number;
let unhealthy: http.Server;
let unhealthyUrl: string;

function listen(server: http.Server): Promise<number> {
    return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

beforeAll(async () => {
    const probe = http.createServer();
    closedPort = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
    unhealthy = http.createServer((_req, res) => {
        res.writeHead(503, { "content-type": "application/json" });
        res.end(JSON.stringify({ status: "unhealthy" }));
    });
    unhealthyUrl = `http://127.0.0.1:${await listen(unhealthy)}/webhooks/health`;
});
afterAll(() => new Promise((resolve) => unhealthy.close(resolve)));

async function verify(...extra: string[]) {
    const out = { stdout: "", stderr: "" };
    const io: Io = { stdout: (t) => (out.stdout += t), stderr: (t) => (out.stderr += t), progress: () => undefined };
    const at = `127.0.0.1:${closedPort}`;
    const code = await runCommand(
        verifyCommand,
        ["--stack", "local", "--pgbouncer", at, "--postgres", at, "--health-url", unhealthyUrl, ...extra],
        io,
    );
    return { code, ...out };
}

describe("verify with no tier listening", () => {
    it("groups identical failures into one line with their count and errno, and exits 1", async () => {
        const { code, stdout } = await verify();
        expect(code).toBe(1);
        const failLines = stdout.split("\n").filter((line) => line.startsWith("FAIL"));
        expect(failLines).toHaveLength(2);
        const refused = failLines.find((line) => /^FAIL {2}\d+ checks failed alike: /.test(line)) as string;
        expect(Number(/(\d+) checks/.exec(refused)?.[1])).toBeGreaterThanOrEqual(12);
        expect(stdout).toContain(`connect ECONNREFUSED 127.0.0.1:${closedPort} (ECONNREFUSED)`);
        expect(stdout).toMatch(/FAIL {2}health endpoint healthy: .*\n\s+HTTP 503 /);
        expect(stdout).toMatch(/checklist: 0 of \d+ checks passed/);
    });

    it("gives the same results as JSON with --format json", async () => {
        const { code, stdout } = await verify("--format", "json");
        expect(code).toBe(1);
        const report = JSON.parse(stdout) as {
            passed: boolean;
            total: number;
            results: { name: string; passed: boolean; detail: string }[];
            failures: { detail: string; checks: string[] }[];
        };
        expect(report.passed).toBe(false);
        expect(report.results).toHaveLength(report.total);
        expect(report.failures.map((f) => f.checks.length).reduce((a, b) => a + b)).toBe(report.total);
        expect(report.failures.find((f) => f.detail.includes("HTTP 503"))?.checks).toEqual([expect.stringMatching(/^health endpoint/)]);
    });
});

describe("describeError", () => {
    it("shows what lies under an error: cause, errno, SQLSTATE", () => {
        const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
        expect(describeError(new TypeError("fetch failed", { cause: refused }))).toBe(
            "fetch failed <- connect ECONNREFUSED 127.0.0.1:1 (ECONNREFUSED)",
        );
        expect(describeError(Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014" }))).toBe(
            "canceling statement due to statement timeout (SQLSTATE 57014)",
        );
        expect(describeError(new AggregateError([refused, refused], ""))).toBe("connect ECONNREFUSED 127.0.0.1:1 (ECONNREFUSED)");
    });
});
