import { describe, expect, it } from "vitest";
import { endpointChecks, projectStacks } from "../../../checks/preflightStacks";
import { parseTierConfig } from "../../../components/config/load";
import { canaryRaw, PROJECT_DIR } from "../support/stackConfig";

describe("preflight: the stack's names against the other stack files", () => {
    it("passes each stack of the project", () => {
        const stacks = projectStacks(PROJECT_DIR);
        expect(Object.keys(stacks).sort()).toEqual(["canary", "local", "prod"]);
        for (const stack of Object.keys(stacks)) expect(endpointChecks(stack, stacks).map((c) => c.passed)).toEqual([true]);
    });

    it("fails a stack that answers on another stack's public domain, naming the key and the other stack", () => {
        const raw = canaryRaw() as Record<string, any>;
        raw.receiver.domain = "api.deltacrown.gg";
        raw.aws.privateZoneId = "ZOTHERPRIVATE";
        const stacks = { ...projectStacks(PROJECT_DIR), canary: parseTierConfig(raw).config };
        expect(endpointChecks("canary", stacks)).toEqual([
            { name: "receiver-tier:receiver.domain api.deltacrown.gg is also claimed by prod", passed: false },
        ]);
        expect(endpointChecks("local", stacks).map((c) => c.passed)).toEqual([true]);
    });
});
