import { describe, expect, it } from "vitest";
import { renderUserlist } from "../../../components/render/userlist";
import { parseScramVerifier, parseUserlist, scramVerifierAccepts } from "../support/fileParsers";
import { loadCanary, loadCanaryWith, TEST_SECRETS } from "../support/stackConfig";

describe("userlist.txt", () => {
    it('has one `"user" "secret"` line for the active receiver login and one for the active stats login', () => {
        const text = renderUserlist(loadCanary(), TEST_SECRETS);
        expect(text.endsWith("\n")).toBe(true);
        for (const line of text.trimEnd().split("\n")) expect(line).toMatch(/^"[a-z_][a-z0-9_]*" "[^"\s]+"$/);
        expect([...parseUserlist(text).keys()]).toEqual(["webhook_receiver_a", "pgbouncer_stats_a"]);
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
        });
    });

    it("renders the same file twice, so previews show no diff", () => {
        expect(renderUserlist(loadCanary(), TEST_SECRETS)).toBe(renderUserlist(loadCanary(), TEST_SECRETS));
    });
});
