import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { readStackFile } from "../../components/config/stackFile";
import { PROJECT_DIR } from "../../local";
import { previewLaunch } from "../../scripts/bench/languageHost";
import { engineConfig, planSecrets, SECRET_CONFIG_KEYS } from "../../scripts/plan/stackConfig";

// The program as `pulumi preview` starts it: node with Pulumi.yaml's nodeargs running @pulumi/pulumi's cmd/run,
// the SDK's mocks in place of the engine (scripts/bench/languageHostMocks.cjs).
describe("the program under Pulumi's language host", () => {
    it("loads the program and registers its first resource when started as the language host starts it, with a cold cache", () => {
        const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "first-resource-")), "at");
        const config = engineConfig(readStackFile(PROJECT_DIR, "canary").all, planSecrets(PROJECT_DIR, "canary", process.env));
        const launch = previewLaunch(PROJECT_DIR, "canary", config, SECRET_CONFIG_KEYS, marker, { cold: true });
        try {
            const result = spawnSync(launch.command, launch.args, { cwd: PROJECT_DIR, env: launch.env, encoding: "utf8", timeout: 60_000 });
            expect(fs.existsSync(marker), result.stderr).toBe(true);
        } finally {
            fs.rmSync(path.dirname(marker), { recursive: true, force: true });
            if (launch.scratchDir) fs.rmSync(launch.scratchDir, { recursive: true, force: true });
        }
    });
});
