import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createTestCa, loadTierConfig, TEST_SECRETS } from "../../harness";
import { renderTierFiles } from "../../components/render/tierFiles";
import { PROJECT_DIR } from "../../runtime/projectDir";

// files/pgbouncer/apply-config.sh, the poller that brings PgBouncer hosts in line with Parameter
// Store, run for real with `aws` and `systemctl` replaced by stubs that serve fixtures and log calls,
// and the real /usr/sbin/pgbouncer checking each new pgbouncer.ini before it lands.

const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-apply-"));
const bin = path.join(sandbox, "bin");
const etc = path.join(sandbox, "etc");
const fixtures = path.join(sandbox, "parameters");
const calls = path.join(sandbox, "systemctl.log");
const metrics = path.join(sandbox, "metrics.log");
/** The ConfigApplyFailed value each run reported, in order. */
const reported = () => (fs.existsSync(metrics) ? fs.readFileSync(metrics, "utf8").split("\n").filter(Boolean) : []);
const ini = path.join(etc, "pgbouncer.ini");
const userlist = path.join(etc, "userlist.txt");
const timer = path.join(etc, "monitor.timer");

/** The local stack's rendered pgbouncer.ini, its auth_file pointed at the sandbox's managed userlist. */
const INI = renderTierFiles(loadTierConfig("local"), TEST_SECRETS, "local")["pgbouncer.ini"].replace(
    /^auth_file = .*$/m,
    `auth_file = ${userlist}`,
);
const withSetting = (ini: string, from: RegExp, to: string) => {
    expect(ini).toMatch(from);
    return ini.replace(from, to);
};

function parameter(name: string, content: string): void {
    fs.writeFileSync(path.join(fixtures, name.replace(/\//g, "_")), content);
}

function apply(): { status: number | null; systemctl: string[]; stderr: string } {
    fs.writeFileSync(calls, "");
    const result = spawnSync("sh", [path.join(PROJECT_DIR, "files/pgbouncer/apply-config.sh")], {
        env: {
            ...process.env,
            PATH: `${bin}:${process.env.PATH}`,
            RECEIVER_TIER_CONFIG_DIR: etc,
            RECEIVER_TIER_PGBOUNCER_INI: ini,
            RECEIVER_TIER_RETRY_DELAY: "0.2",
            FIXTURES: fixtures,
            CALLS: calls,
            METRICS: metrics,
        },
        encoding: "utf8",
        timeout: 30_000,
    });
    return { status: result.status, systemctl: fs.readFileSync(calls, "utf8").split("\n").filter(Boolean), stderr: result.stderr };
}

beforeEach(() => {
    fs.rmSync(sandbox, { recursive: true, force: true });
    for (const dir of [bin, etc, fixtures]) fs.mkdirSync(dir, { recursive: true });
    // aws ssm get-parameter --region R --name NAME ...: prints the fixture, as --output text does (plus a newline).
    fs.writeFileSync(
        path.join(bin, "aws"),
        '#!/bin/sh\nwhile [ "$1" != "--name" ]; do shift; done\nf="$FIXTURES/$(printf %s "$2" | tr / _)"\n[ -f "$f" ] || exit 255\ncat "$f"; echo\n',
        { mode: 0o755 },
    );
    // receiver-tier-put-metric NAME VALUE UNIT: logs the metric each run reports.
    fs.writeFileSync(path.join(bin, "receiver-tier-put-metric"), '#!/bin/sh\necho "$*" >>"$METRICS"\n', { mode: 0o755 });
    // systemctl: logs each call; PgBouncer counts as running (the Debian package starts it).
    fs.writeFileSync(path.join(bin, "systemctl"), '#!/bin/sh\necho "$*" >>"$CALLS"\n', { mode: 0o755 });
    fs.writeFileSync(path.join(etc, "pgbouncer-host.env"), "AWS_REGION=us-east-1\n");
    fs.writeFileSync(
        path.join(etc, "managed-files"),
        [
            `/t/ini ${ini} 0640 root:root pgbouncer`,
            `/t/userlist ${userlist} 0600 root:root pgbouncer`,
            `/t/timer ${timer} 0644 root:root timer`,
            "",
        ].join("\n"),
    );
    parameter("/t/ini", INI);
    parameter("/t/userlist", '"webhook_receiver_a" "md5..."\n');
    parameter("/t/timer", "[Timer]\nOnUnitActiveSec=5min\n");
});
afterAll(() => fs.rmSync(sandbox, { recursive: true, force: true }));

describe("apply-config.sh", () => {
    it("on first boot writes every file with its mode and restarts the package's PgBouncer onto the rendered listener", () => {
        const { status, systemctl, stderr } = apply();
        expect(status, stderr).toBe(0);
        expect(fs.readFileSync(ini, "utf8")).toBe(INI);
        expect(fs.statSync(userlist).mode & 0o777).toBe(0o600);
        expect(fs.statSync(ini).mode & 0o777).toBe(0o640);
        expect(systemctl).toEqual(["daemon-reload", "restart receiver-long-query-monitor.timer", "restart pgbouncer"]);
    });

    it("does nothing when Parameter Store has nothing new", () => {
        apply();
        const { status, systemctl } = apply();
        expect(status).toBe(0);
        expect(systemctl).toEqual([]);
    });

    it("reloads, not restarts, PgBouncer for a pool setting, so connected clients stay", () => {
        apply();
        parameter("/t/ini", withSetting(INI, /^default_pool_size = 25$/m, "default_pool_size = 20"));
        const { status, systemctl, stderr } = apply();
        expect(status, stderr).toBe(0);
        expect(fs.readFileSync(ini, "utf8")).toContain("default_pool_size = 20");
        expect(systemctl).toEqual(["is-active --quiet pgbouncer", "reload pgbouncer"]);
        // The file it replaced is kept, with its mode, as the last good one.
        expect(fs.readFileSync(`${ini}.last-good`, "utf8")).toBe(INI);
        expect(fs.statSync(`${ini}.last-good`).mode & 0o777).toBe(0o640);
    });

    it("restarts PgBouncer when the listener changes, which a reload cannot apply", () => {
        apply();
        parameter("/t/ini", withSetting(INI, /^listen_port = 6432$/m, "listen_port = 6433"));
        expect(apply().systemctl).toEqual(["restart pgbouncer"]);
    });

    it("retries a parameter it cannot read, then fails without changing any file or service", () => {
        apply();
        fs.rmSync(path.join(fixtures, "_t_userlist"));
        parameter("/t/ini", withSetting(INI, /^default_pool_size = 25$/m, "default_pool_size = 20"));
        const started = Date.now();
        const { status, systemctl } = apply();
        expect(status).not.toBe(0);
        expect(Date.now() - started).toBeGreaterThan(9 * 200);
        expect(fs.readFileSync(ini, "utf8")).toContain("default_pool_size = 25");
        expect(systemctl).toEqual([]);
        expect(fs.readdirSync(etc).filter((name) => /\.[A-Za-z0-9]{6}$/.test(name))).toEqual([]);
    });

    describe.each([
        ["an unknown key", (text: string) => withSetting(text, /^default_pool_size = 25$/m, "default_pool_siz = 20"), "unknown parameter"],
        [
            "a bad value",
            (text: string) => withSetting(text, /^pool_mode = transaction$/m, "pool_mode = transactions"),
            'invalid value "transactions"',
        ],
    ])("a pushed pgbouncer.ini with %s", (_what, breakIni, pgbouncerSays) => {
        it("leaves the live file byte-identical, reloads nothing, fails with PgBouncer's own error, and lands once fixed", () => {
            expect(apply().status).toBe(0);
            const live = fs.readFileSync(ini);
            const otherFile = fs.readFileSync(userlist);
            parameter("/t/ini", breakIni(INI));
            parameter("/t/userlist", '"webhook_receiver_a" "md5changed"\n');

            const refused = apply();
            expect(refused.status).not.toBe(0);
            expect(refused.stderr).toContain("pgbouncer refused the new");
            expect(refused.stderr).toContain(pgbouncerSays);
            expect(fs.readFileSync(ini).equals(live)).toBe(true);
            // Nothing half-applied: the userlist that came with the refused push waits too.
            expect(fs.readFileSync(userlist).equals(otherFile)).toBe(true);
            expect(refused.systemctl).toEqual([]);
            expect(fs.readdirSync(etc).filter((name) => /\.[A-Za-z0-9]{6}$/.test(name))).toEqual([]);
            expect(reported()).toEqual(["ConfigApplyFailed 0 Count", "ConfigApplyFailed 1 Count"]);

            // The next poll tries again; a fixed push lands with a reload.
            expect(apply().status).not.toBe(0);
            parameter("/t/ini", withSetting(INI, /^default_pool_size = 25$/m, "default_pool_size = 21"));
            const fixed = apply();
            expect(fixed.status, fixed.stderr).toBe(0);
            expect(fs.readFileSync(ini, "utf8")).toContain("default_pool_size = 21");
            expect(fixed.systemctl).toEqual(["is-active --quiet pgbouncer", "reload pgbouncer"]);
            expect(reported().at(-1)).toBe("ConfigApplyFailed 0 Count");
        });
    });

    it("checks a new ini against the TLS files of the same push, which land with it (first boot and a renewed certificate)", () => {
        // The throwaway PgBouncer runs as the service account: let it reach the sandbox as it reaches /etc/pgbouncer.
        fs.chmodSync(sandbox, 0o755);
        fs.chmodSync(etc, 0o755);
        const cert = path.join(etc, "pgbouncer-tls.crt");
        const key = path.join(etc, "pgbouncer-tls.key");
        const ca = createTestCa("apply-config test CA");
        // The ini as an aws stack renders its client TLS lines, with the files in the sandbox.
        const tlsIni =
            withSetting(INI, /^client_tls_sslmode = disable$/m, "client_tls_sslmode = require") +
            `client_tls_cert_file = ${cert}\nclient_tls_key_file = ${key}\n`;
        expect(tlsIni).toContain(`client_tls_key_file = ${key}`);
        fs.writeFileSync(
            path.join(etc, "managed-files"),
            [
                `/t/cert ${cert} 0644 root:root pgbouncer`,
                `/t/key ${key} 0600 postgres:postgres pgbouncer`,
                `/t/ini ${ini} 0640 root:root pgbouncer`,
                `/t/userlist ${userlist} 0600 root:root pgbouncer`,
                "",
            ].join("\n"),
        );
        const first = ca.issue({ dns: ["pgbouncer.internal"] });
        parameter("/t/cert", first.certPem.trimEnd());
        parameter("/t/key", first.keyPem.trimEnd());
        parameter("/t/ini", tlsIni);
        const booted = apply();
        expect(booted.status, booted.stderr).toBe(0);
        expect(fs.readFileSync(ini, "utf8")).toBe(tlsIni);
        expect(fs.readFileSync(key, "utf8")).toBe(first.keyPem);
        expect(fs.statSync(key).mode & 0o777).toBe(0o600);

        // A renewed certificate and key with a changed ini: checked together, applied with a reload.
        const renewed = ca.issue({ dns: ["pgbouncer.internal"] });
        parameter("/t/cert", renewed.certPem.trimEnd());
        parameter("/t/key", renewed.keyPem.trimEnd());
        parameter("/t/ini", withSetting(tlsIni, /^default_pool_size = 25$/m, "default_pool_size = 22"));
        const rolled = apply();
        expect(rolled.status, rolled.stderr).toBe(0);
        expect(fs.readFileSync(cert, "utf8")).toBe(renewed.certPem);
        expect(rolled.systemctl).toEqual(["is-active --quiet pgbouncer", "reload pgbouncer"]);

        // A key that does not belong to the certificate is refused before anything lands.
        parameter("/t/key", first.keyPem.trimEnd());
        parameter("/t/ini", withSetting(tlsIni, /^default_pool_size = 25$/m, "default_pool_size = 23"));
        const refused = apply();
        expect(refused.status).not.toBe(0);
        expect(refused.stderr).toContain("pgbouncer refused the new");
        expect(fs.readFileSync(key, "utf8")).toBe(renewed.keyPem);
    });

    it("leaves no throwaway PgBouncer running", () => {
        parameter("/t/ini", INI);
        expect(apply().status).toBe(0);
        const running = spawnSync("pgrep", ["-f", `pgbouncer ${os.tmpdir()}/tmp`], { encoding: "utf8" }).stdout.trim();
        expect(running).toBe("");
    });
});
