import { describe, expect, it, vi } from "vitest";
import * as rules from "../../../policy/rules";
import { plain, runProgram, stackRun } from "./mockTier";

const RULES = [
    rules.noWorldOpenDatabaseIngress,
    rules.imdsV2Required,
    rules.encryptedVolumes,
    rules.noSecretsInUserData,
    rules.receiverStatementTimeoutCapped,
    rules.pgbouncerTransactionPooling,
];

describe.each(["canary", "prod", "local"] as const)("stack %s under its own policy pack", (stack) => {
    it("has no violation, and the rules did see the resources they guard", async () => {
        const run = stackRun(stack);
        const violations = run.resources.flatMap((r) =>
            RULES.flatMap((rule) => rule(r.type, plain(r.inputs) as rules.Props).map((v) => `${r.name}: ${v}`)),
        );
        expect(violations).toEqual([]);
        const guarded = run.resources.filter((r) => Object.values(rules.TYPES).includes(r.type as never));
        expect(guarded.length).toBeGreaterThan(stack === "local" ? 3 : 20);
    });

    it("violates the pack when a guarded input is broken", async () => {
        vi.resetModules();
        const run = await runProgram(stack, (raw) => {
            raw.receiverRole = { ...raw.receiverRole, statementTimeout: "30s" };
            // A sender timeout the 30 s statement timeout fits in (rule retryBudgetFitsSenderTimeout), so only the pack objects.
            raw.sender = { ...raw.sender, requestTimeoutSeconds: 60 };
            raw.pgbouncer.settings = { ...raw.pgbouncer.settings, query_timeout: 0, pool_mode: "session" };
        });
        const violations = run.resources.flatMap((r) => RULES.flatMap((rule) => rule(r.type, plain(r.inputs) as rules.Props)));
        expect(violations.some((v) => v.includes("statementTimeout 30000 ms exceeds"))).toBe(true);
        expect(violations.some((v) => /pool_mode/.test(v))).toBe(true);
    });
});
