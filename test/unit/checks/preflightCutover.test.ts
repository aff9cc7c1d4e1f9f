import { describe, expect, it } from "vitest";
import { cutoverStepChecks, LegacyLoginFacts, legacySecretCheck } from "../../../checks/preflightCutover";
import { Check } from "../../../checks/result";
import { NO_STATE, StackState } from "../../../checks/stackState";
import { canaryStepConfig } from "../../../harness/cutoverSteps";

// Preflight's cutover lines from the stack file, the stack's state and what PostgreSQL reports about the hand-made
// login; test/integration/cutover.test.ts runs them against the real PostgreSQL during the rehearsal.

const facts = (login: boolean | undefined, sessions: LegacyLoginFacts["sessions"] = []): LegacyLoginFacts => ({
    login,
    sessions,
    idleSeconds: 30,
});
const holdsEverything: StackState = { has: () => true };
const lines = (checks: Check[]) => checks.map((c) => `${c.passed ? "ok" : "FAIL"} ${c.name}`);

describe("preflight in cutover step 1 (the block in the stack file)", () => {
    const step1 = canaryStepConfig(1);

    it("says what pulumi up will do to the hand-made login", () => {
        expect(lines(cutoverStepChecks(step1, "canary", NO_STATE, facts(true)))).toEqual([
            "ok cutover step 1 of 3 (takeover): pulumi up: webhook_receiver keeps LOGIN and its own password (the stack sets neither) and CREATE on its schema; the stack's PgBouncer accepts it, and pgbouncer.dnsName moves to the stack's NLB once its hosts are in service",
        ]);
    });

    it("fails when there is no hand-made login to keep, or it is NOLOGIN already (the block would reopen it)", () => {
        expect(lines(cutoverStepChecks(step1, "canary", NO_STATE, facts(undefined)))).toEqual([
            "FAIL cutover step 1 of 3 (takeover): the hand-made login webhook_receiver does not exist; nothing to cut over from, remove receiver-tier:cutover",
        ]);
        expect(lines(cutoverStepChecks(step1, "canary", holdsEverything, facts(false)))).toEqual([
            "FAIL cutover step 1 of 3 (takeover): webhook_receiver is NOLOGIN already (the cutover is over); the block would turn its LOGIN back on, remove receiver-tier:cutover",
        ]);
    });

    it("fails without the hand-made secret and leaves a SCRAM verifier to PgBouncer, before any connection", async () => {
        const conn = { host: "192.0.2.1", port: 5432, user: "postgres", password: "x", database: "deltacrown", sslmode: "disable" };
        expect(lines([await legacySecretCheck(step1, conn, undefined)])).toEqual([
            "FAIL receiver-tier:legacyReceiverSecret is not set: the stack's PgBouncer could not accept the hand-made receivers as webhook_receiver",
        ]);
        expect((await legacySecretCheck(step1, conn, "SCRAM-SHA-256$4096:c2FsdA==$a2V5:a2V5")).passed).toBe(true);
    });
});

describe("preflight in cutover step 3 (the block removed)", () => {
    const step3 = canaryStepConfig(3);

    it("passes when no session used the hand-made login within server_idle_timeout", () => {
        expect(lines(cutoverStepChecks(step3, "canary", holdsEverything, facts(true)))).toEqual([
            "ok cutover step 3 of 3 (retire): pulumi up: webhook_receiver NOLOGIN (refused by PostgreSQL) and gone from the stack's userlist; no session used it in the last 30 s",
        ]);
    });

    it("fails while sessions use it, naming where they come from", () => {
        const sessions = [
            { address: "10.0.1.7", count: 3 },
            { address: null, count: 1 },
        ];
        expect(lines(cutoverStepChecks(step3, "canary", holdsEverything, facts(true, sessions)))).toEqual([
            "FAIL cutover step 3 of 3 (retire): pulumi up turns webhook_receiver's LOGIN off, but 4 session(s) logged in as it were used in the last 30 s (10.0.1.7 x 3, (address hidden) x 1): finish step 2 (senders moved, hand-made receivers and PgBouncer stopped)",
        ]);
    });

    it("says nothing on a stack that has nothing to cut over: a first deploy (the adoption check refuses it) or after the cutover", () => {
        expect(cutoverStepChecks(step3, "canary", NO_STATE, facts(true, [{ address: "10.0.1.7", count: 3 }]))).toEqual([]);
        expect(cutoverStepChecks(step3, "canary", holdsEverything, facts(false))).toEqual([]);
        expect(cutoverStepChecks(step3, "canary", holdsEverything, facts(undefined))).toEqual([]);
    });
});
