import { command, Io, main, oneOf, optional, required, text, withDefault } from "./args";
import { formatViolations, mandatoryViolations } from "../policy/offline";
import { planAtRef, POLICY_VIOLATION_EXIT } from "../offline/atRef";
import { diffPlans } from "../offline/diff";
import { diffMarkdown, diffSummary, planMarkdown } from "../offline/markdown";
import type { Plan } from "../offline/describe";
import { PROJECT_DIR } from "../runtime/projectDir";

export const planCommand = command({
    spec: {
        name: "plan",
        summary:
            "Runs the program under the mocked engine with a stack's config (no cloud, no Pulumi CLI) and prints every resource and output, secrets masked, with the policy pack's findings; with --diff, what changes against another commit: replacements (+-), updates (~), instance refreshes, additions and removals.",
        options: {
            stack: required("<name>", "stack to plan (Pulumi.<name>.yaml)", text),
            format: withDefault("<md|json>", "output format", oneOf(["md", "json"] as const), "md"),
            diff: optional("<git-ref>", "commit to compare against (e.g. origin/main); the plan there runs in a child process", text),
        },
        examples: [
            "npm run -s plan -- --stack canary > plan.md",
            "npm run -s plan -- --stack canary --diff origin/main --format md > plan.md",
        ],
        exitCodes: ["1  the program or git failed", `${POLICY_VIOLATION_EXIT}  a mandatory policy violation (the plan is still printed)`],
    },
    async run(values, io) {
        const base = values.diff;
        const { plan, before } = await planTreeAndBase(values.stack, base, io);
        if (before === undefined) {
            io.stdout(values.format === "json" ? JSON.stringify(plan, null, 2) + "\n" : planMarkdown(plan));
        } else {
            const diff = diffPlans(base as string, before, plan);
            io.stdout(values.format === "json" ? JSON.stringify(diff, null, 2) + "\n" : diffMarkdown(diff));
            io.progress(diffSummary(diff));
        }
        const blocking = mandatoryViolations(plan.violations ?? []);
        if (blocking.length === 0) return 0;
        io.stderr(
            `the policy pack refuses stack ${values.stack} (pulumi preview --policy-pack policy would fail):\n${formatViolations(blocking)}\n`,
        );
        return POLICY_VIOLATION_EXIT;
    },
});

/**
 * The working tree's plan and, with a base, the base commit's: the program runs once per process, so the
 * base's plan is made in a child process, at the same time. If this plan fails, the child is stopped.
 */
async function planTreeAndBase(stack: string, base: string | undefined, io: Io): Promise<{ plan: Plan; before?: Plan }> {
    if (base !== undefined) io.progress(`planning stack ${stack} at ${base} (child process)`);
    // The SDK loads only here, so --help and the other commands' tests stay light.
    const { planStack } = await import("../offline/planStack");
    const child = new AbortController();
    const planBefore = base === undefined ? undefined : planAtRef(PROJECT_DIR, base, stack, process.env, child.signal);
    // Handled below, whichever plan ends first.
    planBefore?.catch(() => undefined);
    io.progress(`planning stack ${stack} in the working tree`);
    let plan: Plan;
    try {
        plan = await planStack(stack, process.env);
    } catch (err) {
        child.abort();
        await planBefore?.catch(() => undefined);
        throw err;
    }
    return { plan, before: await planBefore };
}

if (require.main === module) main(planCommand);
