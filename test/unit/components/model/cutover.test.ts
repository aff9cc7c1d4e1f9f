import { describe, expect, it } from "vitest";
import { CUTOVER_STEPS, legacyLoginSecret } from "../../../../components/model/cutover";
import { tierRoles } from "../../../../components/model/roles";
import { md5Secret } from "../../../../components/model/authSecrets";
import { canaryStepConfig } from "../../../../harness/cutoverSteps";
import { TEST_SECRETS } from "../../support/stackConfig";

const group = (step: 1 | 3) => tierRoles(canaryStepConfig(step)).find((role) => role.name === "webhook_receiver");

describe("the cutover's roles", () => {
    it("keep webhook_receiver a login in step 1, without a password the stack would set, and with the runbook's statement timeout", () => {
        expect(group(1)).toMatchObject({ login: true, statementTimeout: "5s", memberOf: [] });
        expect(group(1)?.password).toBeUndefined();
        expect(group(1)?.connectionLimit).toBeUndefined();
    });

    it("make it the NOLOGIN group role in step 3, with nothing of the login left", () => {
        expect(group(3)).toEqual({
            name: "webhook_receiver",
            login: false,
            memberOf: [],
            purpose: "the receivers' privileges (INSERT and SELECT on the events table); the two logins act as it",
        });
    });

    it("change nothing else: every other role is the same in both steps but for the pools' connection limits", () => {
        const others = (step: 1 | 3) =>
            tierRoles(canaryStepConfig(step))
                .filter((role) => role.name !== "webhook_receiver")
                .map(({ connectionLimit: _, password: __, ...rest }) => rest);
        expect(others(1)).toEqual(others(3));
    });

    it("are three documented steps, the first and the last a pulumi up", () => {
        expect(CUTOVER_STEPS.map((s) => [s.number, s.name])).toEqual([
            [1, "takeover"],
            [2, "senders"],
            [3, "retire"],
        ]);
        expect(CUTOVER_STEPS[0]?.action).toContain("pulumi up");
        expect(CUTOVER_STEPS[2]?.action).toContain("pulumi up");
    });
});

describe("legacyLoginSecret", () => {
    const cfg = canaryStepConfig(1);

    it("is the hand-made userlist's md5 secret or SCRAM verifier, only while the cutover block is there", () => {
        expect(legacyLoginSecret(cfg, TEST_SECRETS)).toBe(md5Secret("webhook_receiver", "legacy-receiver-test-password"));
        const scram = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy";
        expect(legacyLoginSecret(cfg, { ...TEST_SECRETS, legacyReceiverSecret: scram })).toBe(scram);
        expect(legacyLoginSecret(canaryStepConfig(3), TEST_SECRETS)).toBeUndefined();
    });

    it("refuses a missing secret, naming the key and where to copy it from", () => {
        const { legacyReceiverSecret: _, ...without } = TEST_SECRETS;
        expect(() => legacyLoginSecret(cfg, without)).toThrow(
            /receiver-tier:legacyReceiverSecret is not set: .*its line in the hand-made userlist.txt/,
        );
    });

    it("refuses a plaintext password: it would sit in the userlist on every host", () => {
        expect(() => legacyLoginSecret(cfg, { ...TEST_SECRETS, legacyReceiverSecret: "legacy-receiver-test-password" })).toThrow(
            "receiver-tier:legacyReceiverSecret must be the pre-hashed secret of the hand-made userlist.txt (md5... or SCRAM-SHA-256$...), not a password",
        );
    });
});
