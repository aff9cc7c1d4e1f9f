import { beforeAll, describe, expect, it, vi } from "vitest";
import { RETIRE_CUTOVER_EDITS, edited } from "../../../harness/cutoverSteps";
import { TEST_SECRETS } from "../../../harness/testSecrets";
import { byName, byType, plain, ProgramRun, runProgram, stackRun } from "./mockTier";

// The cutover from the hand-made canary under the mocked engine (README "First deploy into an existing
// environment"): Pulumi.canary.yaml as shipped is step 1, where the program must leave the hand-made
// webhook_receiver a login with its own password, let the hand-made receivers into the stack's PgBouncer and move
// pgbouncer.internal only once the stack's hosts are in service; step 3 (the block removed) closes the login.

const role = (run: ProgramRun) => byName(run, "canary-postgres-role-webhook_receiver");
const text = (run: ProgramRun, name: string) => String(plain(byName(run, name).inputs.insecureValue ?? byName(run, name).inputs.value));
const legacyLine = `"webhook_receiver" "${TEST_SECRETS.legacyReceiverSecret}"`;

describe("cutover step 1: Pulumi.canary.yaml as shipped", () => {
    let run: ProgramRun;
    beforeAll(() => {
        run = stackRun("canary");
    });

    it("adopts webhook_receiver as a LOGIN role and sets no password on it: the hand-made receivers keep logging in", () => {
        const legacy = role(run);
        expect(legacy.importId).toBe("webhook_receiver");
        expect(plain(legacy.inputs)).toMatchObject({ name: "webhook_receiver", login: true, statementTimeout: 5000, roles: [] });
        expect(legacy.inputs.password).toBeUndefined();
        // Still the group both logins act as.
        expect(plain(byName(run, "canary-postgres-role-webhook_receiver_a").inputs)).toMatchObject({ roles: ["webhook_receiver"] });
    });

    it("keeps the schema's CREATE for it (the old receivers' CREATE TABLE IF NOT EXISTS) while the owner role takes the table", () => {
        const statements = plain(byName(run, "canary-postgres-events-table").inputs.statements) as string[];
        expect(statements).toContain('GRANT CREATE ON SCHEMA "webhook_receiver" TO "webhook_receiver";');
        expect(statements).toContain('ALTER TABLE "webhook_receiver"."webhook_events" OWNER TO "webhook_receiver_owner";');
    });

    it("puts the hand-made login into the stack's userlist with its own secret, and PgBouncer into md5 mode for it", () => {
        expect(text(run, "canary-pgbouncer-userlist")).toContain(legacyLine);
        expect(text(run, "canary-pgbouncer-ini")).toMatch(/^auth_type = md5$/m);
    });

    it("admits the hand-made receivers' group to the NLB and the hosts on PgBouncer's port", () => {
        const legacy = byType(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
            .map((r) => plain(r.inputs) as Record<string, unknown>)
            .filter((r) => r.referencedSecurityGroupId === "sg-0c0ffee0c0ffee041");
        expect(legacy.map((r) => [r.securityGroupId, r.fromPort])).toEqual([
            ["<id of canary-sg-pgbouncer-nlb>", 6432],
            ["<id of canary-sg-pgbouncer>", 6432],
        ]);
    });

    it("moves pgbouncer.internal (an UPSERT over the hand-made record) only after the PgBouncer group, and starts the receivers only after that", () => {
        const record = byName(run, "canary-pgbouncer-dns");
        expect(record.inputs.allowOverwrite).toBe(true);
        expect(record.dependencies.some((urn) => urn.endsWith("aws:autoscaling/group:Group::canary-pgbouncer-hosts-asg"))).toBe(true);
        const receivers = byName(run, "canary-receivers");
        expect(
            receivers.dependencies.some((urn) => urn.endsWith("::canary-pgbouncer-dns")),
            receivers.dependencies.join("\n"),
        ).toBe(true);
    });
});

describe("cutover step 3: the block removed", () => {
    let run: ProgramRun;
    beforeAll(async () => {
        vi.resetModules();
        run = await runProgram("canary", (raw) => {
            const retired = edited(raw, ...RETIRE_CUTOVER_EDITS);
            for (const key of Object.keys(raw)) delete raw[key];
            Object.assign(raw, retired);
        });
        // A whole program run: on a loaded 2-core runner it can take longer than a hook's default 10 s.
    }, 60_000);

    it("makes webhook_receiver the NOLOGIN group role, drops it from the userlist and PgBouncer back to scram-sha-256", () => {
        expect(role(run).importId).toBeUndefined();
        expect(plain(role(run).inputs)).toMatchObject({ name: "webhook_receiver", login: false });
        expect(text(run, "canary-pgbouncer-userlist")).not.toContain('"webhook_receiver" ');
        expect(text(run, "canary-pgbouncer-ini")).toMatch(/^auth_type = scram-sha-256$/m);
        const statements = plain(byName(run, "canary-postgres-events-table").inputs.statements) as string[];
        expect(statements.join("\n")).not.toContain("GRANT CREATE");
        expect(byType(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.name)).not.toContain(
            "canary-sg-nlb-from-legacy-1",
        );
    });
});

describe("cutover step 1 without the hand-made login's secret", () => {
    it("refuses to run, naming the secret and where it comes from", async () => {
        vi.resetModules();
        const { runUnderMocks } = await import("../../../offline/mockEngine");
        const { engineConfig, SECRET_CONFIG_KEYS } = await import("../../../offline/stackConfig");
        const { readStackFile } = await import("../../../components/config/stackFile");
        const { PROGRAM_SECRETS } = await import("./programRun");
        const { legacyReceiverSecret: _, ...without } = PROGRAM_SECRETS;
        const config = engineConfig(readStackFile((await import("../support/projectDir")).PROJECT_DIR, "canary").all, without);
        await expect(runUnderMocks("receiver-tier", "canary", config, SECRET_CONFIG_KEYS, () => import("../../../index"))).rejects.toThrow(
            /missing secrets: receiver-tier:legacyReceiverSecret/,
        );
    });
});
