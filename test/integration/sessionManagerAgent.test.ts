import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../../runtime/projectDir";

// files/host/install-ssm-agent.sh as a host runs it at boot, with `aws`, `dpkg` and `systemctl` replaced
// by stubs that log their calls: the operators' Session Manager access, started beside the readiness check.

const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-ssm-agent-"));
afterAll(() => fs.rmSync(sandbox, { recursive: true, force: true }));
const PACKAGE = "s3://amazon-ssm-us-east-1/latest/debian_amd64/amazon-ssm-agent.deb";

function install(options: { fetchFails?: boolean }) {
    const dir = fs.mkdtempSync(path.join(sandbox, "run-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const log = path.join(dir, "calls.log");
    const stub = (name: string, body: string) =>
        fs.writeFileSync(path.join(bin, name), `#!/bin/sh\necho "${name} $*" >> ${log}\n${body}\n`, { mode: 0o755 });
    // `aws s3 cp ... <url> <file>`: the last argument is where the package goes.
    stub("aws", options.fetchFails ? "exit 1" : 'for last; do :; done; echo "package" > "$last"');
    stub("dpkg", 'for last; do :; done; echo "dpkg read $(cat "$last")" >> ' + log);
    stub("systemctl", "");
    const result = spawnSync("sh", [path.join(PROJECT_DIR, "files/host/install-ssm-agent.sh")], {
        env: {
            ...process.env,
            PATH: `${bin}:${process.env.PATH}`,
            AWS_REGION: "us-east-1",
            SSM_AGENT_PACKAGE: PACKAGE,
            RECEIVER_TIER_SSM_DEB: path.join(dir, "amazon-ssm-agent.deb"),
            RECEIVER_TIER_RETRY_DELAY: "0",
        },
        encoding: "utf8",
        timeout: 30_000,
    });
    const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
    return { status: result.status, stderr: result.stderr, calls };
}

describe("install-ssm-agent.sh", () => {
    it("fetches the region's package with the instance role, installs it and starts the agent", () => {
        const { status, calls, stderr } = install({});
        expect(status, stderr).toBe(0);
        expect(calls[0]).toMatch(new RegExp(`^aws s3 cp --only-show-errors --region us-east-1 ${PACKAGE} \\S+\\.deb$`));
        expect(calls.slice(1)).toEqual([
            expect.stringMatching(/^dpkg -i \S+\.deb$/),
            "dpkg read package",
            "systemctl enable --now amazon-ssm-agent.service",
        ]);
    });

    it("gives up after 10 fetches, saying so, and installs nothing", () => {
        const { status, calls, stderr } = install({ fetchFails: true });
        expect(status).toBe(1);
        expect(stderr).toContain(`could not fetch ${PACKAGE}`);
        expect(calls).toHaveLength(10);
        expect(calls.every((call) => call.startsWith("aws s3 cp "))).toBe(true);
    });
});
