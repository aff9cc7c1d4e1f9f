import { renderCommand } from "../../../scripts/render";
import { runInProcess } from "./runScript";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { TIER_SECRET_KEYS } from "../../../components/schema/schema";
import { readStackFile } from "../../../components/config/stackFile";
import { parseUserlist, scramVerifierAccepts } from "../support/fileParsers";
import { PROJECT_DIR, pulumiConfigJson, TEST_SECRETS } from "../support/stackConfig";

// The render command as `npm run render -- --stack <s> --out <dir>` runs it, in this process.

const SIX_FILES = ["database.sql", "gunicorn.conf.py", "nginx.conf", "pgbouncer.ini", "receiver.env", "userlist.txt"];
const PRIVATE = new Set(["userlist.txt", "database.sql"]);

const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-render-"));
afterAll(() => fs.rmSync(tempRoot, { recursive: true, force: true }));

let outDirs = 0;
/** A path for --out that does not exist yet, so "writes nothing" can be checked. */
const freshOutDir = () => path.join(tempRoot, `out-${++outDirs}`);

/** The environment without any Pulumi config, plus `extra`. */
function envWith(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env = { ...process.env, ...extra };
    if (!("PULUMI_CONFIG" in extra)) delete env.PULUMI_CONFIG;
    return env;
}

function render(args: readonly string[], env: NodeJS.ProcessEnv = envWith()) {
    return runInProcess(renderCommand, args, env);
}

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe("npm run render", () => {
    it("writes exactly the six files for the local stack, secret ones owner-only", async () => {
        const out = freshOutDir();
        const result = await render(["--stack", "local", "--out", out]);
        expect(result.status, result.stderr).toBe(0);
        expect(result.stderr).not.toContain("warnings:");
        expect(fs.readdirSync(out).sort()).toEqual(SIX_FILES);
        for (const name of SIX_FILES) {
            expect(mode(path.join(out, name)), name).toBe(PRIVATE.has(name) ? 0o600 : 0o644);
        }
        const users = parseUserlist(fs.readFileSync(path.join(out, "userlist.txt"), "utf8"));
        expect(scramVerifierAccepts(users.get("webhook_receiver_a") ?? "", "local-dev-only-receiver-a")).toBe(true);
    });

    it("refuses an invalid stack, lists every problem and writes nothing", async () => {
        const projectDir = fs.mkdtempSync(path.join(tempRoot, "project-"));
        fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(projectDir, "Pulumi.yaml"));
        const config = structuredClone(readStackFile(PROJECT_DIR, "local").all) as Record<string, Record<string, unknown>>;
        const pgbouncer = config["receiver-tier:pgbouncer"] as { settings: Record<string, unknown> };
        pgbouncer.settings.default_poolsize = 30;
        pgbouncer.settings.reserve_pool_timeout = 5;
        config["receiver-tier:sender"] = { maxQps: 10, burstLimit: 5 };
        fs.writeFileSync(path.join(projectDir, "Pulumi.broken.yaml"), stringify({ config }));

        const out = freshOutDir();
        const result = await render(["--stack", "broken", "--out", out, "--project-dir", projectDir]);
        expect(result.status).not.toBe(0);
        expect(result.stderr).toContain("3 problems");
        for (const key of ["pgbouncer.settings.default_poolsize", "pgbouncer.settings.reserve_pool_timeout", "sender.burstLimit"]) {
            expect(result.stderr).toContain(`error: receiver-tier:${key}:`);
        }
        expect(fs.existsSync(out)).toBe(false);
    });

    it("refuses the canary stack without its secrets, naming each missing key, and writes nothing", async () => {
        const out = freshOutDir();
        const result = await render(["--stack", "canary", "--out", out]);
        expect(result.status).not.toBe(0);
        for (const key of TIER_SECRET_KEYS) {
            expect(result.stderr).toContain(`receiver-tier:${key} is not set`);
        }
        expect(fs.existsSync(out)).toBe(false);
    });

    it("renders the canary stack with secrets given in PULUMI_CONFIG", async () => {
        const out = freshOutDir();
        const pulumiConfig = pulumiConfigJson(TEST_SECRETS);
        const result = await render(["--stack", "canary", "--out", out], envWith({ PULUMI_CONFIG: pulumiConfig }));
        expect(result.status, result.stderr).toBe(0);
        expect(result.stderr).not.toContain("warnings:");
        expect(fs.readdirSync(out).sort()).toEqual(SIX_FILES);
        const users = parseUserlist(fs.readFileSync(path.join(out, "userlist.txt"), "utf8"));
        expect(scramVerifierAccepts(users.get("webhook_receiver_a") ?? "", TEST_SECRETS.receiverPasswordA)).toBe(true);
        expect(scramVerifierAccepts(users.get("pgbouncer_stats_a") ?? "", TEST_SECRETS.statsPasswordA)).toBe(true);
    });
});
