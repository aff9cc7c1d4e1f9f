import { describe, expect, it } from "vitest";
import { durabilityCheck } from "../../../checks/durability";

const SYNC = { synchronousCommit: "on", synchronousStandbyNames: "FIRST 1 (standby)", synchronousStandbys: 1 };

describe("durability: does a 202 survive a primary crash", () => {
    it("says yes with a synchronous standby connected and COMMIT waiting for it", () => {
        expect(durabilityCheck("synchronous-standby", SYNC)).toMatchObject({ passed: true, detail: expect.stringMatching(/^yes: /) });
    });

    it("says no when COMMIT does not wait (synchronous_commit local, no names) or no standby is connected", () => {
        for (const state of [
            { ...SYNC, synchronousCommit: "local" },
            { ...SYNC, synchronousStandbyNames: "" },
            { ...SYNC, synchronousStandbys: 0 },
        ]) {
            const verdict = durabilityCheck("synchronous-standby", state);
            expect(verdict.passed).toBe(false);
            expect(verdict.detail).toMatch(/^NO: acknowledged webhooks .* are lost if the primary crashes/);
        }
    });

    it("passes a stack that declares no high availability, with the plain no", () => {
        const verdict = durabilityCheck("none", { ...SYNC, synchronousStandbyNames: "" });
        expect(verdict).toMatchObject({ passed: true, detail: expect.stringMatching(/^NO: .*highAvailability none/) });
    });

    it("says yes for a managed Multi-AZ database without asking the server, with what its failover costs", () => {
        expect(durabilityCheck("rds-multi-az", undefined).detail).toMatch(/^yes .*60-120 s.*503 \+ Retry-After/);
        expect(durabilityCheck("aurora", undefined).passed).toBe(true);
    });
});
