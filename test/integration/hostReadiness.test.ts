import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { renderPgbouncerHealthEnv } from "../../components/render/pgbouncerHealth";
import { loadTierConfig, startTier, Tier, TEST_SECRETS } from "../../harness";
import { PROJECT_DIR } from "../../runtime/projectDir";

// The readiness checks that gate a new host's entry into service, run for real: the PgBouncer host's
// health check against the real PgBouncer and PostgreSQL, the launch-hook completion and the
// receivers' secrets fetch with `aws` and `curl` replaced by stubs that log their calls.

const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-readiness-"));
afterAll(() => fs.rmSync(sandbox, { recursive: true, force: true }));
const script = (name: string) => path.join(PROJECT_DIR, "files", name);

function runScript(file: string, args: string[], env: Record<string, string>, input?: string) {
    const result = spawnSync("sh", [file, ...args], { env: { ...process.env, ...env }, input, encoding: "utf8", timeout: 30_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("pgbouncer-health.sh against the real PgBouncer and PostgreSQL", () => {
    const cfg = loadTierConfig("local");
    let tier: Tier;
    const healthEnv = (secrets = TEST_SECRETS) => {
        const file = path.join(sandbox, `health-${Math.random().toString(36).slice(2)}.env`);
        const rendered = renderPgbouncerHealthEnv(cfg, secrets);
        expect(rendered).toMatch(/^PGPORT=6432$/m);
        fs.writeFileSync(file, rendered.replace(/^PGPORT=.*$/m, `PGPORT=${tier.pgbouncer.port}`));
        return { RECEIVER_TIER_HEALTH_ENV: file };
    };
    const health = (mode: string, env: Record<string, string>) =>
        runScript(script("pgbouncer/pgbouncer-health.sh"), [mode], env, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");

    beforeAll(async () => {
        tier = await startTier({ cfg });
    });
    afterAll(async () => {
        await tier?.stop();
    });

    it("reads the NLB's request headers to their end before answering (no reset for unread bytes)", () => {
        // What follows the blank line is not the request's: the script must leave exactly that unread.
        const request = "GET / HTTP/1.1\r\nHost: 10.0.1.5:8008\r\nUser-Agent: ELB-HealthChecker/2.0\r\nAccept: */*\r\n\r\nNEXT";
        const result = spawnSync("sh", ["-c", `sh "$0" http >/dev/null; cat`, script("pgbouncer/pgbouncer-health.sh")], {
            input: request,
            encoding: "utf8",
            env: { ...process.env, ...healthEnv() },
            timeout: 20_000,
        });
        expect(result.stdout).toBe("NEXT");
    });

    it("passes when the active receiver login reaches PostgreSQL through PgBouncer, and answers the NLB with 200", () => {
        const checked = health("check", healthEnv());
        expect(checked.stdout.trim(), checked.stderr).toBe("healthy");
        expect(checked.status).toBe(0);
        const answered = health("http", healthEnv());
        expect(answered.stdout).toMatch(/^HTTP\/1\.0 200 OK\r\n[\s\S]*\r\n\r\nhealthy\n$/);
    });

    it("fails, with PgBouncer's reason, when the login's password is not the one PgBouncer and PostgreSQL hold", () => {
        const checked = health("check", healthEnv({ ...TEST_SECRETS, receiverPasswordA: "not-the-password" }));
        expect(checked.status).toBe(1);
        expect(checked.stdout).toMatch(/^unhealthy: .*SASL authentication failed/);
        expect(health("http", healthEnv({ ...TEST_SECRETS, receiverPasswordA: "wrong" })).stdout).toMatch(
            /^HTTP\/1\.0 503 Service Unavailable\r\n/,
        );
    });

    it("fails while PostgreSQL is down although PgBouncer still listens, and passes again once it is back", async () => {
        await tier.postgres.stopServer();
        try {
            const checked = health("check", healthEnv());
            expect(checked.status).toBe(1);
            expect(checked.stdout).toMatch(/^unhealthy: /);
            expect(tier.pgbouncer.alive()).toBe(true);
        } finally {
            await tier.postgres.startServer();
        }
        let status: number | null = null;
        for (let i = 0; i < 20 && status !== 0; i++) {
            status = health("check", healthEnv()).status;
            if (status !== 0) await new Promise((resolve) => setTimeout(resolve, 500));
        }
        expect(status).toBe(0);
    });
});

describe("complete-launch.sh", () => {
    const bin = path.join(sandbox, "launch-bin");
    const calls = path.join(sandbox, "launch-calls.log");
    const launchEnv = path.join(sandbox, "launch.env");

    beforeEach(() => {
        fs.rmSync(bin, { recursive: true, force: true });
        fs.mkdirSync(bin, { recursive: true });
        fs.writeFileSync(calls, "");
        fs.writeFileSync(launchEnv, "AWS_REGION=us-east-1\nLIFECYCLE_HOOK_NAME=receiver-tier-ready\nREADINESS_DEADLINE_SECONDS=2\n");
        // IMDSv2: a token, then the instance id.
        fs.writeFileSync(
            path.join(bin, "curl"),
            '#!/bin/sh\necho "curl $*" >>"$CALLS"\ncase "$*" in *api/token*) echo token-1 ;; *instance-id*) echo i-0abc ;; *) exit 22 ;; esac\n',
            { mode: 0o755 },
        );
        fs.writeFileSync(
            path.join(bin, "aws"),
            '#!/bin/sh\necho "aws $*" >>"$CALLS"\ncase "$2" in describe-auto-scaling-instances) echo canary-pgbouncer-hosts-asg-123 ;; esac\n',
            { mode: 0o755 },
        );
    });

    const launch = (...readiness: string[]) =>
        runScript(script("host/complete-launch.sh"), readiness, {
            PATH: `${bin}:${process.env.PATH}`,
            CALLS: calls,
            RECEIVER_TIER_LAUNCH_ENV: launchEnv,
            RECEIVER_TIER_RETRY_DELAY: "0.2",
        });
    const completion = () =>
        fs
            .readFileSync(calls, "utf8")
            .split("\n")
            .filter((line) => line.includes("complete-lifecycle-action"));

    it("admits the instance (CONTINUE) once its readiness check passes, retrying until then", () => {
        const marker = path.join(sandbox, "ready-after-two");
        fs.rmSync(marker, { force: true });
        // Fails twice, then passes: a host still booting.
        const check = `n=$(cat ${marker} 2>/dev/null || echo 0); echo $((n + 1)) >${marker}; [ "$n" -ge 2 ]`;
        const result = launch("sh", "-c", check);
        expect(result.status, result.stderr).toBe(0);
        expect(fs.readFileSync(marker, "utf8").trim()).toBe("3");
        expect(completion()).toEqual([
            "aws autoscaling complete-lifecycle-action --region us-east-1 --lifecycle-hook-name receiver-tier-ready " +
                "--auto-scaling-group-name canary-pgbouncer-hosts-asg-123 --instance-id i-0abc --lifecycle-action-result CONTINUE",
        ]);
    });

    it("abandons the instance (the group terminates it, a refresh rolls back) when it never gets ready", () => {
        const result = launch("false");
        expect(result.status).not.toBe(0);
        expect(completion()).toEqual([expect.stringMatching(/--instance-id i-0abc --lifecycle-action-result ABANDON$/)]);
    });
});

describe("fetch-secrets.sh (ExecStartPre of the receiver)", () => {
    const bin = path.join(sandbox, "fetch-bin");
    const hostEnv = path.join(sandbox, "receiver-host.env");
    const target = path.join(sandbox, "secrets.env");
    const calls = path.join(sandbox, "fetch-calls.log");

    beforeEach(() => {
        fs.rmSync(bin, { recursive: true, force: true });
        fs.mkdirSync(bin, { recursive: true });
        fs.writeFileSync(calls, "");
        fs.writeFileSync(
            hostEnv,
            "AWS_REGION=us-east-1\nSECRETS_PARAMETER=/receiver-tier/canary/receiver/secrets.env\nSECRETS_VERSION=7\n",
        );
        fs.writeFileSync(target, "DB_PASSWORD=previous\n");
    });

    /** aws ssm get-parameter: fails `failures` times, then prints the value of the version asked for. */
    const stubAws = (failures: number) =>
        fs.writeFileSync(
            path.join(bin, "aws"),
            `#!/bin/sh\necho "aws $*" >>"$CALLS"\nn=$(grep -c . "$CALLS")\n[ "$n" -gt ${failures} ] || exit 255\n` +
                'while [ "$1" != "--name" ]; do shift; done\necho "DB_PASSWORD=value-of-$2"\n',
            { mode: 0o755 },
        );
    const fetch = () =>
        runScript(script("receiver/fetch-secrets.sh"), [], {
            PATH: `${bin}:${process.env.PATH}`,
            CALLS: calls,
            RECEIVER_TIER_HOST_ENV: hostEnv,
            RECEIVER_TIER_SECRETS_ENV: target,
            RECEIVER_TIER_RETRY_DELAY: "0.1",
            RECEIVER_TIER_SECRETS_GROUP: "root",
        });

    it("fetches the parameter version the launch template names, retrying, into a file only its group reads", () => {
        stubAws(3);
        const result = fetch();
        expect(result.status, result.stderr).toBe(0);
        expect(fs.readFileSync(target, "utf8")).toBe("DB_PASSWORD=value-of-/receiver-tier/canary/receiver/secrets.env:7\n");
        expect(fs.statSync(target).mode & 0o777).toBe(0o640);
        expect(fs.readFileSync(calls, "utf8").trim().split("\n")).toHaveLength(4);
    });

    it("keeps the previous file and fails (systemd retries the start) when the parameter cannot be read", () => {
        stubAws(100);
        const result = fetch();
        expect(result.status).not.toBe(0);
        expect(result.stderr).toContain("cannot read /receiver-tier/canary/receiver/secrets.env:7 after 10 attempts");
        expect(fs.readFileSync(target, "utf8")).toBe("DB_PASSWORD=previous\n");
        expect(fs.readdirSync(sandbox).filter((name) => name.startsWith("secrets.env."))).toEqual([]);
    });
});
