import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_NAMESPACE } from "../../components/schema/schema";
import { loadTierConfig, startTier, Tier } from "../../harness";
import { runScript } from "../unit/scripts/runScript";

// `npm run verify` runs the runbook's checklist against a live tier: here the harness's.

describe("npm run verify against a running tier", () => {
    const cfg = loadTierConfig("local");
    let tier: Tier;

    beforeAll(async () => {
        tier = await startTier({ cfg, gunicorn: true });
    });
    afterAll(async () => {
        await tier?.stop();
    });

    function verify(
        endpoints = [
            "--pgbouncer",
            `127.0.0.1:${tier.pgbouncer.port}`,
            "--health-url",
            `${tier.gunicorn?.baseUrl}${cfg.receiver.healthPath}`,
        ],
        input?: string,
    ): { status: number | null; stdout: string; stderr: string } {
        const secrets = Object.fromEntries(Object.entries(tier.secrets).map(([key, value]) => [`${CONFIG_NAMESPACE}:${key}`, value]));
        const result = runScript("scripts/verify.ts", ["--stack", "local", "--postgres", `127.0.0.1:${tier.postgres.port}`, ...endpoints], {
            env: { ...process.env, PULUMI_CONFIG: JSON.stringify(secrets) },
            ...(input === undefined ? {} : { input }),
        });
        return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    }

    it("takes the endpoints from `pulumi stack output --json` on stdin with --outputs -", () => {
        const outputs = JSON.stringify({
            pgbouncerEndpoint: `127.0.0.1:${tier.pgbouncer.port}`,
            healthUrl: `${tier.gunicorn?.baseUrl}${cfg.receiver.healthPath}`,
            statementTimeout: "5s",
        });
        const { status, stdout, stderr } = verify(["--outputs", "-"], outputs);
        expect(stdout.match(/^FAIL/gm), stdout + stderr).toBeNull();
        expect(stdout).toMatch(/PASS {2}health endpoint healthy/);
        expect(status).toBe(0);
        const missing = verify(["--outputs", "-"], JSON.stringify({ healthUrl: "http://127.0.0.1:1/x" }));
        expect(missing.status).toBe(2);
        expect(missing.stderr).toContain("--outputs: stdin has no string pgbouncerEndpoint");
    });

    it("passes every check of a healthy tier and exits 0", () => {
        const { status, stdout } = verify();
        const lines = stdout.split("\n").filter((line) => /^(PASS|FAIL) /.test(line));
        expect(
            lines.filter((line) => line.startsWith("FAIL")),
            stdout,
        ).toEqual([]);
        expect(lines.length).toBeGreaterThanOrEqual(14);
        expect(stdout).toMatch(/PASS {2}PgBouncer pool_mode = transaction/);
        expect(stdout).toMatch(/PASS {2}statement timeout 5s as webhook_receiver_a through PgBouncer/);
        expect(stdout).toMatch(/PASS {2}health endpoint healthy/);
        // No standby here, and the stack says so: reported plainly, not failed.
        expect(stdout).toMatch(/PASS {2}acknowledged webhooks survive a primary crash\n {6}NO: .*synchronous_standby_names = ''/);
        expect(status).toBe(0);
    });

    it("fails the check of a setting the running PgBouncer does not have, and exits non-zero", async () => {
        const drifted = tier.files["pgbouncer.ini"].replace(/^default_pool_size = \d+$/m, "default_pool_size = 20");
        await tier.pgbouncer.reload(drifted);
        const { status, stdout } = verify();
        expect(stdout).toMatch(/FAIL {2}PgBouncer default_pool_size = 25\n\s+SHOW CONFIG: default_pool_size = 20/);
        expect(stdout.match(/^FAIL/gm)).toHaveLength(1);
        expect(status).toBe(1);
    });

    it("fails when PostgreSQL is down: the statement timeout and health checks cannot pass", async () => {
        await tier.postgres.stopServer();
        try {
            const { status, stdout } = verify();
            expect(stdout).toMatch(/FAIL {2}statement timeout/);
            expect(stdout).toMatch(/FAIL {2}health endpoint healthy/);
            expect(status).toBe(1);
        } finally {
            await tier.postgres.startServer();
        }
    });
});
