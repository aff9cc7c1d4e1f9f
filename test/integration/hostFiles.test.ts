import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import {
    EC2_USER_DATA_LIMIT_BYTES,
    launchTemplateUserData,
    renderPgbouncerUserData,
    renderReceiverUserData,
} from "../../components/render/cloudInit";
import { renderPublicFiles } from "../../components/render/tierFiles";
import { parameterNames } from "../../components/model/parameterNames";
import { createTestCa, loadTierConfig } from "../../harness";
import { PROJECT_DIR } from "../../runtime/projectDir";

// What hosts run at boot, checked by the real tools: Debian's cloud-init schema and shellcheck.

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-hostfiles-"));
afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

function cloudInitSchema(name: string, userData: string): { status: number | null; output: string } {
    const file = path.join(workDir, name);
    fs.writeFileSync(file, userData);
    const result = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8", timeout: 60_000 });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe.each(["canary", "prod"])("user data of stack %s", (stack) => {
    const cfg = loadTierConfig(stack);
    const names = parameterNames(stack);
    // A CA like the stack's own (ECDSA P-256), which the receivers get in their user data.
    const pgbouncerCa = createTestCa(`receiver-tier ${stack} PgBouncer CA`).certPem;

    it("is valid cloud-config for the PgBouncer hosts", () => {
        const result = cloudInitSchema(`${stack}-pgbouncer.yaml`, renderPgbouncerUserData(cfg, "us-east-1", names));
        expect(result.output).toContain("Valid cloud-config");
        expect(result.status).toBe(0);
    });

    it("is valid cloud-config for the receivers, and fits EC2's 16 KiB user data limit", () => {
        const userData = renderReceiverUserData(cfg, stack, "us-east-1", names, renderPublicFiles(cfg, stack), 1, pgbouncerCa);
        const result = cloudInitSchema(`${stack}-receiver.yaml`, userData);
        expect(result.output).toContain("Valid cloud-config");
        expect(result.status).toBe(0);
        // EC2's limit applies to what the launch template holds before base64: the gzip. Keep 2 KiB to grow.
        expect(Buffer.from(launchTemplateUserData(userData), "base64").length).toBeLessThanOrEqual(EC2_USER_DATA_LIMIT_BYTES - 2 * 1024);
    });
});

describe("the schema check", () => {
    it("fails on a broken cloud-config, so the checks above can fail", () => {
        const result = cloudInitSchema("broken.yaml", "#cloud-config\npackages: 5\n");
        expect(result.status).not.toBe(0);
    });
});

describe("shell scripts shipped to hosts and containers", () => {
    const scripts = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "files/*.sh", "files/**/*.sh"], {
        cwd: PROJECT_DIR,
        encoding: "utf8",
    })
        .split("\n")
        .filter(Boolean);

    it("are all found", () => {
        expect(scripts.length).toBeGreaterThanOrEqual(5);
    });

    it.each(scripts)("%s passes shellcheck", (script) => {
        const result = spawnSync("shellcheck", ["--shell=sh", path.join(PROJECT_DIR, script)], { encoding: "utf8", timeout: 60_000 });
        expect(result.stdout).toBe("");
        expect(result.status).toBe(0);
    });
});
