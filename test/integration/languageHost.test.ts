import { describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../../runtime/projectDir";
import { startToFirstResource } from "../../devloop/languageHost";

// The program as `pulumi preview` starts it: node with Pulumi.yaml's nodeargs running @pulumi/pulumi's cmd/run,
// the SDK's mocks in place of the engine (devloop/languageHostMocks.cjs).
describe("the program under Pulumi's language host", () => {
    it("loads the program and registers its first resource when started as the language host starts it, with a cold cache", () => {
        const { seconds, stderr } = startToFirstResource(PROJECT_DIR, "canary", { cold: true });
        expect(seconds, stderr).toBeGreaterThan(0);
    });
});
