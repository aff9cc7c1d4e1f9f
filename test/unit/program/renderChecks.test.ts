import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { afterAll, describe, expect, it, vi } from "vitest";
import { parseTierConfig } from "../../../components/config/load";
import { readStackFile } from "../../../components/config/stackFile";
import { renderPublicFiles } from "../../../components/render/tierFiles";
import { Io, runCommand } from "../../../scripts/args";
import { configPolicyResources, policyViolations } from "../../../policy/offline";
import { renderCommand } from "../../../scripts/render";
import { plain, runProgram } from "./mockTier";
import { PROJECT_DIR } from "../support/stackConfig";

const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-render-checks-"));
afterAll(() => fs.rmSync(tempRoot, { recursive: true, force: true }));

async function render(argv: string[]) {
    const out = { stdout: "", stderr: "" };
    const io: Io = { stdout: (t) => (out.stdout += t), stderr: (t) => (out.stderr += t), progress: () => undefined };
    return { code: await runCommand(renderCommand, argv, io), ...out };
}

/** A project folder with the local stack file, its project keys edited. */
function localWith(edit: (raw: Record<string, any>) => void): string {
    const dir = fs.mkdtempSync(path.join(tempRoot, "project-"));
    const all = structuredClone(readStackFile(PROJECT_DIR, "local").all) as Record<string, any>;
    const raw: Record<string, any> = {};
    for (const [key, value] of Object.entries(all)) if (key.startsWith("receiver-tier:")) raw[key.slice("receiver-tier:".length)] = value;
    edit(raw);
    const config = { ...all, ...Object.fromEntries(Object.entries(raw).map(([key, value]) => [`receiver-tier:${key}`, value])) };
    fs.writeFileSync(path.join(dir, "Pulumi.local.yaml"), stringify({ config }));
    return dir;
}

describe("render --out", () => {
    it("refuses an empty path and writes nothing into the current directory", async () => {
        const before = fs.readdirSync(process.cwd()).sort();
        const result = await render(["--stack", "local", "--out", ""]);
        expect(result.code).toBe(2);
        expect(result.stderr).toContain("--out must name a directory");
        expect(fs.readdirSync(process.cwd()).sort()).toEqual(before);
    });

    it("refuses a path that is a file and leaves the file alone", async () => {
        const file = path.join(tempRoot, "not-a-dir");
        fs.writeFileSync(file, "keep");
        expect((await render(["--stack", "local", "--out", file])).code).toBe(2);
        expect(fs.readFileSync(file, "utf8")).toBe("keep");
    });

    it("is kept out of git wherever it points inside the repository", () => {
        for (const name of ["userlist.txt", "database.sql", "pgbouncer.ini", "gunicorn.conf.py", "receiver.env"]) {
            for (const where of [name, path.join("rendered", "canary", name)]) {
                expect(() => execFileSync("git", ["check-ignore", "-q", "--no-index", where], { cwd: PROJECT_DIR }), where).not.toThrow();
            }
        }
    });
});

describe("render runs the policy pack's config-level rules", () => {
    it.each([
        [
            "pool_mode session",
            (raw: Record<string, any>) => (raw.pgbouncer.settings.pool_mode = "session"),
            "pgbouncer-transaction-pooling",
        ],
        [
            "a 6s statement timeout",
            (raw: Record<string, any>) => ((raw.receiverRole = { statementTimeout: "6s" }), (raw.pgbouncer.settings.query_timeout = 0)),
            "receiver-statement-timeout-capped",
        ],
    ])("refuses %s naming the rule, and writes nothing", async (_what, edit, rule) => {
        const out = path.join(tempRoot, `out-${rule}`);
        const result = await render(["--stack", "local", "--out", out, "--project-dir", localWith(edit)]);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(`mandatory: ${rule}:`);
        expect(fs.existsSync(out)).toBe(false);
    });

    it("finds what the pack finds on the program's own resources", async () => {
        const edit = (raw: Record<string, any>) => {
            raw.pgbouncer.settings = { ...raw.pgbouncer.settings, pool_mode: "session", query_timeout: 0 };
            raw.receiverRole = { ...raw.receiverRole, statementTimeout: "6s" };
        };
        const stackFile = readStackFile(PROJECT_DIR, "canary");
        const raw = structuredClone(stackFile.raw) as Record<string, any>;
        edit(raw);
        const cfg = parseTierConfig(raw).config;
        const offline = policyViolations(configPolicyResources(cfg, "canary", renderPublicFiles(cfg, "canary")["pgbouncer.ini"]));
        vi.resetModules();
        const run = await runProgram("canary", edit);
        const program = policyViolations(
            run.resources.map((r) => ({ type: r.type, name: r.name, inputs: plain(r.inputs) as Record<string, unknown> })),
        );
        const summary = (vs: typeof offline) => vs.map((v) => `${v.policy}: ${v.message}`).sort();
        expect(summary(offline)).toEqual(summary(program));
        expect(new Set(offline.map((v) => v.policy))).toEqual(
            new Set(["pgbouncer-transaction-pooling", "receiver-statement-timeout-capped"]),
        );
    });
});
