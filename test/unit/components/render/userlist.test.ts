import { describe, expect, it } from "vitest";
import { renderUserlist } from "../../../../components/render/userlist";
import { renderPgbouncerIni } from "../../../../components/render/pgbouncerIni";
import { iniSection, parseScramVerifier, parseUserlist, scramVerifierAccepts } from "../../support/fileParsers";
import { canaryRaw, edited, loadCanary, loadCanaryWith, problemKeys, refusedProblems, TEST_SECRETS } from "../../support/stackConfig";
import { canaryStepConfig } from "../../../../harness/cutoverSteps";

describe("userlist.txt", () => {
    it('has one `"user" "secret"` line for the active receiver, stats and admin login each', () => {
        const text = renderUserlist(loadCanary(), TEST_SECRETS);
        expect(text.endsWith("\n")).toBe(true);
        for (const line of text.trimEnd().split("\n")) expect(line).toMatch(/^"[a-z_][a-z0-9_]*" "[^"\s]+"$/);
        expect([...parseUserlist(text).keys()]).toEqual(["webhook_receiver_a", "pgbouncer_stats_a", "pgbouncer_admin_a"]);
    });

    it("holds SCRAM verifiers of each user's own password under scram-sha-256, never the password", () => {
        const text = renderUserlist(loadCanary(), TEST_SECRETS);
        const users = parseUserlist(text);
        const receiver = users.get("webhook_receiver_a") ?? "";
        const stats = users.get("pgbouncer_stats_a") ?? "";
        expect(parseScramVerifier(receiver).iterations).toBe(4096);
        expect(scramVerifierAccepts(receiver, TEST_SECRETS.receiverPasswordA)).toBe(true);
        expect(scramVerifierAccepts(stats, TEST_SECRETS.statsPasswordA)).toBe(true);
        expect(scramVerifierAccepts(receiver, TEST_SECRETS.statsPasswordA)).toBe(false);
        for (const password of Object.values(TEST_SECRETS)) expect(text).not.toContain(password);
    });

    it("holds md5 secrets under the runbook's md5 (values from python3 hashlib: md5(password + user))", () => {
        const users = parseUserlist(renderUserlist(loadCanaryWith(["pgbouncer.settings.auth_type", "md5"]), TEST_SECRETS));
        expect(Object.fromEntries(users)).toEqual({
            webhook_receiver_a: "md53faa6aef3520da4acbb51e224d8817e4",
            pgbouncer_stats_a: "md5df15d23a22ad47ef069f73728bd2914d",
            pgbouncer_admin_a: "md574f2d79dd5a5b9f6a3d75f5c60e71c7c",
        });
    });

    it("renders the same file twice, so previews show no diff", () => {
        expect(renderUserlist(loadCanary(), TEST_SECRETS)).toBe(renderUserlist(loadCanary(), TEST_SECRETS));
    });
});

describe("userlist.txt and stats_users through a rotation", () => {
    const users = (logins: object, statsLogins: object) => [
        ...parseUserlist(
            renderUserlist(loadCanaryWith(["receiverRole.logins", logins], ["pgbouncer.statsLogins", statsLogins]), TEST_SECRETS),
        ).keys(),
    ];

    it("accepts the standby logins only while they are open, the active ones always", () => {
        const closed = { active: "a", standby: "closed" };
        expect(users(closed, closed)).toEqual(["webhook_receiver_a", "pgbouncer_stats_a", "pgbouncer_admin_a"]);
        expect(users({ active: "a", standby: "open" }, { active: "b", standby: "open" })).toEqual([
            "webhook_receiver_a",
            "webhook_receiver_b",
            "pgbouncer_stats_b",
            "pgbouncer_stats_a",
            "pgbouncer_admin_a",
        ]);
        expect(users({ active: "b", standby: "closed" }, closed)).toEqual(["webhook_receiver_b", "pgbouncer_stats_a", "pgbouncer_admin_a"]);
    });

    it("lets both stats logins run SHOW POOLS while the stats standby is open, so moving receivers never fails a health check", () => {
        const ini = (statsLogins: object) =>
            iniSection(renderPgbouncerIni(loadCanaryWith(["pgbouncer.statsLogins", statsLogins]), "canary"), "pgbouncer").stats_users;
        expect(ini({ active: "b", standby: "open" })).toBe("pgbouncer_stats_b,pgbouncer_stats_a");
        expect(ini({ active: "b", standby: "closed" })).toBe("pgbouncer_stats_b");
    });

    it("lets only the operators' admin login PAUSE and RESUME; its standby while open", () => {
        const ini = (adminLogins: object) =>
            iniSection(renderPgbouncerIni(loadCanaryWith(["pgbouncer.adminLogins", adminLogins]), "canary"), "pgbouncer").admin_users;
        expect(ini({ active: "a", standby: "closed" })).toBe("pgbouncer_admin_a");
        expect(ini({ active: "b", standby: "open" })).toBe("pgbouncer_admin_b,pgbouncer_admin_a");
    });

    it("refuses a login slot other than a or b, naming the key", () => {
        expect(problemKeys(refusedProblems(edited(canaryRaw(), ["receiverRole.logins.active", "c"])))).toEqual([
            "receiver-tier:receiverRole.logins.active (error)",
        ]);
        expect(problemKeys(refusedProblems(edited(canaryRaw(), ["pgbouncer.statsLogins.standby", "half"])))).toEqual([
            "receiver-tier:pgbouncer.statsLogins.standby (error)",
        ]);
    });
});

describe("userlist.txt and auth_type through the cutover", () => {
    const legacy = `"webhook_receiver" "${TEST_SECRETS.legacyReceiverSecret}"`;

    it("step 1 adds the hand-made login with the hand-made userlist's secret, and PgBouncer checks passwords in md5 mode", () => {
        const cfg = canaryStepConfig(1);
        expect(renderUserlist(cfg, TEST_SECRETS).trimEnd().split("\n")).toEqual([
            expect.stringMatching(/^"webhook_receiver_a" "SCRAM-SHA-256\$/),
            expect.stringMatching(/^"pgbouncer_stats_a" "SCRAM-SHA-256\$/),
            expect.stringMatching(/^"pgbouncer_admin_a" "SCRAM-SHA-256\$/),
            legacy,
        ]);
        expect(iniSection(renderPgbouncerIni(cfg, "canary"), "pgbouncer").auth_type).toBe("md5");
    });

    it("step 3 drops it and returns to the configured scram-sha-256", () => {
        const cfg = canaryStepConfig(3);
        expect(renderUserlist(cfg, TEST_SECRETS)).not.toContain(legacy);
        expect(iniSection(renderPgbouncerIni(cfg, "canary"), "pgbouncer").auth_type).toBe("scram-sha-256");
    });
});
