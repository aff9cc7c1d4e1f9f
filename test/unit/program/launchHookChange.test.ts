import { describe, expect, it, vi } from "vitest";
import { describePlan } from "../../../offline/describe";
import { diffPlans } from "../../../offline/diff";
import { runProgram, stackRun } from "./mockTier";

// The provider replaces an auto scaling group whose initial lifecycle hooks changed: the new group launches
// its full fleet beside the old one, twice the hosts and twice the PgBouncer server connections the budget
// rule allows. A change of the launch hook (here its timeout, a code change) must update the hook in place.

describe("a changed launch lifecycle hook on canary", () => {
    it("updates each group's hook in place and replaces no group", async () => {
        vi.resetModules();
        vi.doMock("../../../components/model/rollout", async (importOriginal) => ({
            ...(await importOriginal<typeof import("../../../components/model/rollout")>()),
            LAUNCH_HOOK_TIMEOUT_SECONDS: 1200,
        }));
        const after = await runProgram("canary");
        vi.doUnmock("../../../components/model/rollout");
        const diff = diffPlans("main", describePlan("canary", stackRun("canary")), describePlan("canary", after));

        expect(diff.changed.filter((c) => c.action === "replace")).toEqual([]);
        expect(diff.changed.map((c) => [c.type, c.name, c.changes])).toEqual(
            ["canary-pgbouncer-hosts", "canary-receivers-hosts"].map((group) => [
                "aws:autoscaling/lifecycleHook:LifecycleHook",
                `${group}-launch-hook`,
                [{ path: "heartbeatTimeout", before: 900, after: 1200 }],
            ]),
        );
        expect(diff.added).toEqual([]);
        expect(diff.removed).toEqual([]);
    });
});
