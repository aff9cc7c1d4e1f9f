import { describe, expect, it } from "vitest";
import { renderUserlist } from "../../../components/render/userlist";
import { parseScramVerifier, parseUserlist, scramVerifierAccepts } from "../support/fileParsers";
import { loadCanary, loadCanaryWith, TEST_SECRETS } from "../support/stackConfig";

describe("userlist.txt", () => {
    it('has one `"user" "secret"` line for the receiver role and one for the stats user', () => {
        const text = renderUserlist(loadCanary(), TEST_SECRETS);
        expect(text.endsWith("\n")).toBe(true);
        for (const line of text.trimEnd().split("\n")) expect(line).toMatch(/^"[a-z_][a-z0-9_]*" "[^"\s]+"$/);
        expect([...parseUserlist(text).keys()]).toEqual(["webhook_receiver", "pgbouncer_stats"]);
    });

    it("holds SCRAM verifiers of each user's own password under scram-sha-256, never the password", () => {
        const text = renderUserlist(loadCanary(), TEST_SECRETS);
        const users = parseUserlist(text);
        const receiver = users.get("webhook_receiver") ?? "";
        const stats = users.get("pgbouncer_stats") ?? "";
        expect(parseScramVerifier(receiver).iterations).toBe(4096);
        expect(scramVerifierAccepts(receiver, TEST_SECRETS.receiverPassword)).toBe(true);
        expect(scramVerifierAccepts(stats, TEST_SECRETS.statsPassword)).toBe(true);
        expect(scramVerifierAccepts(receiver, TEST_SECRETS.statsPassword)).toBe(false);
        for (const password of Object.values(TEST_SECRETS)) expect(text).not.toContain(password);
    });

    it("holds md5 secrets under the runbook's md5 (values from python3 hashlib: md5(password + user))", () => {
        const users = parseUserlist(renderUserlist(loadCanaryWith(["pgbouncer.settings.auth_type", "md5"]), TEST_SECRETS));
        expect(Object.fromEntries(users)).toEqual({
            webhook_receiver: "md572abd655a5577e520e49f062e99eb578",
            pgbouncer_stats: "md532d3374e6d7b8ed306621e600ca2a48f",
        });
    });

    it("renders the same file twice, so previews show no diff", () => {
        expect(renderUserlist(loadCanary(), TEST_SECRETS)).toBe(renderUserlist(loadCanary(), TEST_SECRETS));
    });
});
