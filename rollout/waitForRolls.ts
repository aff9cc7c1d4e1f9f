import {
    AutoScalingClient,
    DescribeInstanceRefreshesCommand,
    InstanceRefresh,
    StartInstanceRefreshCommand,
    UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import { Roll } from "./stackGroups";

// The provider starts a group's instance refresh and returns at once, so `pulumi up` succeeds before
// the roll; and the refresh's own auto rollback returns to the configuration saved when it started,
// which the provider had already set to the new version (hashicorp/terraform-provider-aws#34189). The
// deploy job therefore waits for every roll and, on failure, sets the previous version back itself.

const RUNNING = new Set(["Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking"]);

/** How long to wait and how often to ask. */
export interface WaitOptions {
    readonly timeoutMs: number;
    readonly pollMs: number;
    readonly sleep: (ms: number) => Promise<void>;
    readonly progress: (line: string) => void;
}

/** How one roll ended. */
export interface RollResult {
    readonly groupName: string;
    readonly ok: boolean;
    readonly line: string;
}

/** The group's newest refresh started at or after `since`, once it is no longer running. */
async function refreshOutcome(
    client: AutoScalingClient,
    groupName: string,
    since: Date,
    options: WaitOptions,
): Promise<InstanceRefresh | string> {
    const deadline = Date.now() + options.timeoutMs;
    let last = "";
    for (;;) {
        const refreshes =
            (await client.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: groupName, MaxRecords: 5 })))
                .InstanceRefreshes ?? [];
        const ours = refreshes.find((r) => r.StartTime !== undefined && r.StartTime.getTime() >= since.getTime());
        if (ours !== undefined && !RUNNING.has(ours.Status ?? "")) return ours;
        const now = ours === undefined ? "no refresh started yet" : `${ours.Status} ${ours.PercentageComplete ?? 0}%`;
        if (now !== last) options.progress(`${groupName}: ${now}`);
        last = now;
        if (Date.now() >= deadline) return `still ${now} after ${Math.round(options.timeoutMs / 1000)} s`;
        await options.sleep(options.pollMs);
    }
}

/** Sets the group back to the version it ran before the update and rolls it onto that version, waiting. */
async function rollBack(client: AutoScalingClient, roll: Roll, since: Date, options: WaitOptions): Promise<string> {
    const { groupName, launchTemplateId } = roll.group;
    await client.send(
        new UpdateAutoScalingGroupCommand({
            AutoScalingGroupName: groupName,
            LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: roll.previousVersion },
        }),
    );
    await client.send(
        new StartInstanceRefreshCommand({
            AutoScalingGroupName: groupName,
            Strategy: "Rolling",
            // As the stack's own refreshes: launch before terminating, never below full capacity.
            Preferences: { MinHealthyPercentage: 100, SkipMatching: true, AutoRollback: false },
        }),
    );
    const outcome = await refreshOutcome(client, groupName, since, options);
    if (typeof outcome === "string") return `the rollback refresh is ${outcome}`;
    return outcome.Status === "Successful" ? "back on it" : `the rollback refresh ended ${outcome.Status}: ${outcome.StatusReason ?? ""}`;
}

/** Waits for each roll; a failed one is rolled back to its previous version explicitly. */
export async function waitForRolls(
    client: AutoScalingClient,
    rolls: readonly Roll[],
    since: Date,
    options: WaitOptions,
): Promise<RollResult[]> {
    return Promise.all(
        rolls.map(async (roll): Promise<RollResult> => {
            const { groupName, version } = roll.group;
            const outcome = await refreshOutcome(client, groupName, since, options);
            if (typeof outcome !== "string" && outcome.Status === "Successful") {
                return { groupName, ok: true, line: `${groupName}: rolled onto launch template version ${version}` };
            }
            const why = typeof outcome === "string" ? outcome : `${outcome.Status}: ${outcome.StatusReason ?? "no reason given"}`;
            const rollbackStart = new Date();
            const back = await rollBack(client, roll, rollbackStart, options);
            return {
                groupName,
                ok: false,
                line: `${groupName}: the roll onto version ${version} failed (${why}); ROLLED BACK to version ${roll.previousVersion}: ${back}`,
            };
        }),
    );
}
