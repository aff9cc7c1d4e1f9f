import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { runUnderMocks } from "../../../../offline/mockEngine";
import { PROVIDER_PLACEHOLDER } from "../../../../offline/sdkPatches";

const provider: pulumi.dynamic.ResourceProvider = {
    async create() {
        return { id: "x" };
    },
};

class Dynamic extends pulumi.dynamic.Resource {
    constructor(name: string) {
        super(provider, name, { value: "v" });
    }
}

describe("dynamic resources under the mocked engine", () => {
    it("registers a placeholder for the provider's code, which the plan does not show, and leaves the SDK's serializer as it was", async () => {
        const run = await runUnderMocks("receiver-tier", "test", {}, [], async () => {
            new Dynamic("setting");
            return {};
        });
        expect(run.resources.map((r) => r.inputs)).toEqual([{ value: "v", __provider: PROVIDER_PLACEHOLDER }]);
        // The module dynamic resources serialize their providers through.
        const serializer = require("@pulumi/pulumi/runtime/closure/serializeClosure") as typeof pulumi.runtime;
        expect((await serializer.serializeFunction(() => provider)).text).toContain("exports.handler");
    });
});
