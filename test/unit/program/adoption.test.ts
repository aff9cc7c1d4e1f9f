import { importPlanCommand } from "../../../scripts/importPlan";
import { runInProcess } from "../scripts/runScript";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { parseTierConfig } from "../../../components/config/load";
import { CONFIG_NAMESPACE } from "../../../components/schema/schema";
import { readStackFile } from "../../../components/config/stackFile";
import { adoptionOptions } from "../../../components/postgres/postgresSettings";
import { renderImportPlan } from "../../../components/render/importPlan";
import { tierRoles } from "../../../components/model/roles";
import { byName, plain, PROJECT_DIR, ProgramRun, runProgram, stackRun } from "./mockTier";

// Adoption of what was made by hand: adopt ids become Pulumi's `import` option on exactly those
// resources, DNS overwrites only where a stack says so per record, and `npm run import-plan`
// writes the same resources as a `pulumi import --file` document.

const ADOPT = {
    roles: { webhook_receiver: "webhook_receiver", pgbouncer_stats_a: "pgbouncer_stats_a", receiver_monitor: "receiver_monitor" },
    publicRecord: "Z0C0FFEE0C0FFEE_api-canary.deltacrown.gg_A",
    privateRecord: "Z0C0FFEE0C0FFE1_pgbouncer.internal_A",
};
const EXPECTED_IMPORTS = {
    "canary-postgres-role-webhook_receiver": "webhook_receiver",
    "canary-postgres-role-pgbouncer_stats_a": "pgbouncer_stats_a",
    "canary-postgres-role-receiver_monitor": "receiver_monitor",
    "canary-receivers-dns": ADOPT.publicRecord,
    "canary-pgbouncer-dns": ADOPT.privateRecord,
};
const imports = (run: ProgramRun) =>
    Object.fromEntries(run.resources.filter((r) => r.importId !== undefined).map((r) => [r.name, r.importId]));
const adoptedCanary = () => parseTierConfig({ ...readStackFile(PROJECT_DIR, "canary").raw, adopt: ADOPT }).config;

describe("canary with adopt ids", () => {
    let run: ProgramRun;
    beforeAll(async () => {
        vi.resetModules();
        run = await runProgram("canary", (raw) => {
            raw.adopt = ADOPT;
        });
    });

    it("never imports the database setting (a dynamic resource: the engine would read it without its provider)", () => {
        expect(byName(run, "canary-postgres-database-statement-timeout").importId).toBeUndefined();
        expect(() =>
            parseTierConfig({ ...readStackFile(PROJECT_DIR, "canary").raw, adopt: { databaseSetting: "deltacrown/statement_timeout" } }),
        ).toThrow(/receiver-tier:adopt\.databaseSetting: is not needed \(and would break pulumi preview\)/);
    });

    it("registers exactly the adopted resources with the `import` option and exactly those ids", () => {
        expect(imports(run)).toEqual(EXPECTED_IMPORTS);
    });

    it("still declares the adopted roles with the stack's inputs, so the import only succeeds when they match", () => {
        expect(plain(byName(run, "canary-postgres-role-receiver_monitor").inputs)).toMatchObject({
            name: "receiver_monitor",
            login: true,
            roles: ["pg_monitor"],
            statementTimeout: 30_000,
        });
    });

    it("overwrites no DNS record unless asked", () => {
        expect(byName(run, "canary-receivers-dns").inputs.allowOverwrite).toBe(false);
        expect(byName(run, "canary-pgbouncer-dns").inputs.allowOverwrite).toBe(false);
    });

    it("import-plan names the same resources, ids, parents and provider as the program registers", () => {
        const plan = renderImportPlan(adoptedCanary(), "canary", CONFIG_NAMESPACE);
        const withIds = plan.resources.filter((entry) => entry.id !== undefined);
        expect(Object.fromEntries(withIds.map((entry) => [entry.name, entry.id]))).toEqual(EXPECTED_IMPORTS);
        for (const entry of plan.resources) {
            const registered = byName(run, entry.name);
            expect(registered.type, entry.name).toBe(entry.type);
            expect(registered.custom, entry.name).toBe(entry.component !== true);
            if (entry.parent !== undefined) expect(plan.resources.some((p) => p.component && p.name === entry.parent)).toBe(true);
        }
        expect(plan.nameTable).toEqual({
            "canary-postgres-provider":
                "urn:pulumi:canary::receiver-tier::receiver-tier:postgres:Settings$pulumi:providers:postgresql::canary-postgres-provider",
        });
        expect(byName(run, "canary-postgres-provider").type).toBe("pulumi:providers:postgresql");
    });
});

describe("without adopt ids", () => {
    it("imports nothing", async () => {
        expect(imports(stackRun("prod"))).toEqual({});
    });

    it("overwrites exactly the record a stack chose, and only that one", async () => {
        vi.resetModules();
        const run = await runProgram("canary", (raw) => {
            raw.adopt = { overwriteRecords: { private: true } };
        });
        expect(byName(run, "canary-pgbouncer-dns").inputs.allowOverwrite).toBe(true);
        expect(byName(run, "canary-receivers-dns").inputs.allowOverwrite).toBe(false);
    });
});

describe("an adopted role", () => {
    const cfg = adoptedCanary();
    const spec = (name: string) => tierRoles(cfg).find((role) => role.name === name) as ReturnType<typeof tierRoles>[number];

    it("keeps the password it has in the adopting update (a verifier cannot be read back to compare), and ignores nothing else", () => {
        expect(adoptionOptions(cfg, spec("receiver_monitor"))).toEqual({ import: "receiver_monitor", ignoreChanges: ["password"] });
        expect(adoptionOptions(cfg, spec("webhook_receiver"))).toEqual({ import: "webhook_receiver" });
        expect(adoptionOptions(cfg, spec("webhook_receiver_a"))).toEqual({});
    });
});

describe("npm run import-plan", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-import-plan-"));
    const run = (stack: string, out: string) => runInProcess(importPlanCommand, ["--stack", stack, "--out", out]);

    it("refuses a stack without adopt ids, naming the key", async () => {
        const result = await run("prod", path.join(dir, "none.json"));
        expect(result.status).toBe(1);
        expect(result.stderr).toContain("receiver-tier:adopt");
        expect(fs.existsSync(path.join(dir, "none.json"))).toBe(false);
    });

    it("writes the pulumi import --file document of a stack with adopt ids", async () => {
        const projectCopy = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-import-stack-"));
        try {
            const stackFile = readStackFile(PROJECT_DIR, "canary").all;
            fs.writeFileSync(
                path.join(projectCopy, "Pulumi.adopting.yaml"),
                JSON.stringify({ config: { ...stackFile, [`${CONFIG_NAMESPACE}:adopt`]: ADOPT } }),
            );
            const out = path.join(dir, "adopting.json");
            const result = await runInProcess(importPlanCommand, ["--stack", "adopting", "--out", out, "--project-dir", projectCopy]);
            expect(result.stderr).toBe("");
            expect(result.status).toBe(0);
            const written = JSON.parse(fs.readFileSync(out, "utf8"));
            const cfg = parseTierConfig({ ...readStackFile(PROJECT_DIR, "canary").raw, adopt: ADOPT }).config;
            expect(written).toEqual(renderImportPlan(cfg, "adopting", CONFIG_NAMESPACE));
            expect(result.stdout).toContain("pulumi import --stack adopting --file");
        } finally {
            fs.rmSync(projectCopy, { recursive: true, force: true });
        }
    });
});
