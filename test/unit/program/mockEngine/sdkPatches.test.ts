import { describe, expect, it } from "vitest";
import { sdkInternals } from "../../../../offline/sdkPatches";

// The mocked engine reaches into three internals of the pinned @pulumi/pulumi. An upgrade that moves one
// must fail here by name, not leave the plan without parents, options or registrations.
describe("the SDK internals the mocked engine uses", () => {
    it("are all there in the pinned @pulumi/pulumi", () => {
        const { settings, serializer } = sdkInternals();
        expect(typeof settings.getMonitor).toBe("function");
        expect(typeof settings.waitForRPCs).toBe("function");
        expect(typeof serializer.serializeFunction).toBe("function");
    });

    it("names the one an upgrade removed, with the SDK's version", () => {
        const settings = require("@pulumi/pulumi/runtime/settings") as Record<string, unknown>;
        const waitForRPCs = settings.waitForRPCs;
        delete settings.waitForRPCs;
        try {
            expect(() => sdkInternals()).toThrow(
                /^@pulumi\/pulumi 3\.248\.0 no longer has runtime\/settings waitForRPCs: offline\/sdkPatches\.ts needs updating for it$/,
            );
        } finally {
            settings.waitForRPCs = waitForRPCs;
        }
    });

    it("patches the serializer the SDK's dynamic resources call, by module property", () => {
        // dynamic/index.js requires the module at call time and calls serializeFunction on it: a patch of
        // the property reaches it (a destructured import would not).
        const source = require("fs").readFileSync(require.resolve("@pulumi/pulumi/dynamic/index.js"), "utf8") as string;
        expect(source).toMatch(
            /const sc = require\("\.\.\/runtime\/closure\/serializeClosure"\);\s+const sfPromise = sc\.serializeFunction\(/,
        );
    });
});
