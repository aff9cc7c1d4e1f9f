import { parseArgs, requireArg } from "./args";
import { planAtRef } from "./plan/atRef";
import { diffPlans } from "./plan/diff";
import { diffMarkdown, planMarkdown } from "./plan/markdown";
import { PROJECT_DIR, planStack } from "./plan/planStack";

const USAGE = "npm run plan -- --stack <name> [--format md|json] [--diff <git-ref>]";

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2));
    const stack = requireArg(args, "stack", USAGE);
    const format = args.get("format") ?? "md";
    if (format !== "md" && format !== "json") throw new Error(`--format must be md or json\nusage: ${USAGE}`);
    const base = args.get("diff");
    // The program runs once per process, so the other commit's plan is made first, in a child process.
    const before = base === undefined ? undefined : planAtRef(PROJECT_DIR, base, stack, process.env);
    const plan = await planStack(stack, process.env);
    if (before === undefined) {
        process.stdout.write(format === "json" ? JSON.stringify(plan, null, 2) + "\n" : planMarkdown(plan));
        return;
    }
    const diff = diffPlans(base as string, before, plan);
    process.stdout.write(format === "json" ? JSON.stringify(diff, null, 2) + "\n" : diffMarkdown(diff));
}

main().catch((err: unknown) => {
    process.stderr.write(`plan failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
});
