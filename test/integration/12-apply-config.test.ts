import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../../local";

// files/pgbouncer/apply-config.sh, the poller that brings PgBouncer hosts in line with Parameter
// Store, run for real with `aws` and `systemctl` replaced by stubs that serve fixtures and log calls.

const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-apply-"));
const bin = path.join(sandbox, "bin");
const etc = path.join(sandbox, "etc");
const fixtures = path.join(sandbox, "parameters");
const calls = path.join(sandbox, "systemctl.log");
const ini = path.join(etc, "pgbouncer.ini");
const userlist = path.join(etc, "userlist.txt");
const timer = path.join(etc, "monitor.timer");

const INI = ["[pgbouncer]", "listen_addr = 0.0.0.0", "listen_port = 6432", "default_pool_size = 25", ""].join("\n");

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
    parameter("/t/userlist", '"webhook_receiver" "md5..."\n');
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
        parameter("/t/ini", INI.replace("default_pool_size = 25", "default_pool_size = 20"));
        const { systemctl } = apply();
        expect(fs.readFileSync(ini, "utf8")).toContain("default_pool_size = 20");
        expect(systemctl).toEqual(["is-active --quiet pgbouncer", "reload pgbouncer"]);
    });

    it("restarts PgBouncer when the listener changes, which a reload cannot apply", () => {
        apply();
        parameter("/t/ini", INI.replace("listen_port = 6432", "listen_port = 6433"));
        expect(apply().systemctl).toEqual(["restart pgbouncer"]);
    });

    it("retries a parameter it cannot read, then fails without changing any file or service", () => {
        apply();
        fs.rmSync(path.join(fixtures, "_t_userlist"));
        parameter("/t/ini", INI.replace("default_pool_size = 25", "default_pool_size = 20"));
        const started = Date.now();
        const { status, systemctl } = apply();
        expect(status).not.toBe(0);
        expect(Date.now() - started).toBeGreaterThan(9 * 200);
        expect(fs.readFileSync(ini, "utf8")).toContain("default_pool_size = 25");
        expect(systemctl).toEqual([]);
        expect(fs.readdirSync(etc).filter((name) => /\.[A-Za-z0-9]{6}$/.test(name))).toEqual([]);
    });
});
