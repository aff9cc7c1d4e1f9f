import {
    AutoScalingClient,
    DescribeInstanceRefreshesCommand,
    StartInstanceRefreshCommand,
    UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { Roll, rollsOf, StackGroup } from "../../../rollout/stackGroups";
import { waitForRolls, WaitOptions } from "../../../rollout/waitForRolls";

// The deploy job's wait after `pulumi up` against a mocked Auto Scaling API: a roll is waited for until
// its refresh ends; a failed one is set back to the previous launch template version and rolled there.

const asg = mockClient(AutoScalingClient);
const client = new AutoScalingClient({ region: "us-east-1" });
const since = new Date("2026-12-03T10:00:00Z");
const after = (ms: number) => new Date(since.getTime() + ms);
const group = (version: string): StackGroup => ({ groupName: "canary-receivers-hosts-asg", launchTemplateId: "lt-0abc", version });
const roll: Roll = { group: group("8"), previousVersion: "7" };
const options: WaitOptions = { timeoutMs: 60_000, pollMs: 1, sleep: async () => undefined, progress: () => undefined };

/** Answers DescribeInstanceRefreshes with each list in turn, the last one for ever. */
function refreshesInTurn(...answers: { Status: string; StartTime: Date; StatusReason?: string }[][]): void {
    let call = 0;
    asg.on(DescribeInstanceRefreshesCommand).callsFake(() => ({ InstanceRefreshes: answers[Math.min(call++, answers.length - 1)] }));
}

describe("which groups roll", () => {
    it("is every group the update moved to another launch template version, with the version to return to", () => {
        const before = [group("7"), { ...group("3"), groupName: "canary-pgbouncer-hosts-asg" }];
        const now = [group("8"), { ...group("3"), groupName: "canary-pgbouncer-hosts-asg" }];
        expect(rollsOf(before, now)).toEqual([{ group: group("8"), previousVersion: "7" }]);
        expect(rollsOf(now, now)).toEqual([]);
    });
});

describe("waiting for the rolls", () => {
    beforeEach(() => asg.reset());

    it("waits past an older refresh and a running one, and reports the roll done once it succeeded", async () => {
        const old = { Status: "Successful", StartTime: new Date("2026-11-01T00:00:00Z") };
        refreshesInTurn(
            [old],
            [{ Status: "InProgress", StartTime: after(5_000) }, old],
            [{ Status: "Successful", StartTime: after(5_000) }, old],
        );
        const [result] = await waitForRolls(client, [roll], since, options);
        expect(result).toEqual({
            groupName: "canary-receivers-hosts-asg",
            ok: true,
            line: "canary-receivers-hosts-asg: rolled onto launch template version 8",
        });
        expect(asg.commandCalls(DescribeInstanceRefreshesCommand)).toHaveLength(3);
        expect(asg.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
        expect(asg.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
    });

    it("sets a failed roll's group back to the previous version explicitly, rolls it there and fails loudly", async () => {
        const failed = { Status: "RollbackSuccessful", StartTime: after(5_000), StatusReason: "instances failed the launch hook" };
        let rolledBack = false;
        asg.on(UpdateAutoScalingGroupCommand).callsFake(() => {
            rolledBack = true;
            return {};
        });
        asg.on(DescribeInstanceRefreshesCommand).callsFake(() => ({
            InstanceRefreshes: rolledBack ? [{ Status: "Successful", StartTime: new Date(Date.now() + 1_000) }, failed] : [failed],
        }));
        const [result] = await waitForRolls(client, [roll], since, options);
        expect(result?.ok).toBe(false);
        expect(result?.line).toBe(
            "canary-receivers-hosts-asg: the roll onto version 8 failed (RollbackSuccessful: instances failed the launch hook); ROLLED BACK to version 7: back on it",
        );
        expect(asg.commandCalls(UpdateAutoScalingGroupCommand)[0]?.args[0].input).toEqual({
            AutoScalingGroupName: "canary-receivers-hosts-asg",
            LaunchTemplate: { LaunchTemplateId: "lt-0abc", Version: "7" },
        });
        expect(asg.commandCalls(StartInstanceRefreshCommand)[0]?.args[0].input).toMatchObject({
            AutoScalingGroupName: "canary-receivers-hosts-asg",
            Preferences: { MinHealthyPercentage: 100 },
        });
    });

    it("gives up on a roll that does not end in time, and rolls it back too", async () => {
        refreshesInTurn([{ Status: "InProgress", StartTime: after(1_000) }]);
        const [result] = await waitForRolls(client, [roll], since, { ...options, timeoutMs: 0 });
        expect(result?.ok).toBe(false);
        expect(result?.line).toMatch(/failed \(still InProgress 0% after 0 s\); ROLLED BACK to version 7/);
        expect(asg.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(1);
    });
});
