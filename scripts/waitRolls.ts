import { command, integer, main, required, text, UsageError, withDefault } from "./args";

/** An ISO 8601 time, as `date -u +%Y-%m-%dT%H:%M:%SZ` prints it. */
const isoTime = (value: string, flag: string): Date => {
    const time = new Date(value);
    if (!/^\d{4}-\d\d-\d\dT/.test(value) || Number.isNaN(time.getTime()))
        throw new UsageError(`${flag} must be an ISO 8601 time, not '${value}'`);
    return time;
};

export const waitRollsCommand = command({
    spec: {
        name: "wait-rolls",
        summary:
            "After `pulumi up`: waits for every instance refresh the update started (the provider does not) and, for a roll that fails, sets its group back to the launch template version it ran before and rolls it there. One line per group; exit 1 on any failed roll.",
        options: {
            before: required("<file>", "`pulumi stack export` output taken before `pulumi up`", text),
            after: required("<file|->", "`pulumi stack export` output taken after it (- for stdin)", text),
            since: required("<time>", "when `pulumi up` started (ISO 8601): older refreshes are not this deploy's", isoTime),
            "timeout-minutes": withDefault("<n>", "how long one roll may take", integer(1, 240), "60"),
        },
        examples: [
            "pulumi stack export --file before.json; since=$(date -u +%FT%TZ); pulumi up --yes; pulumi stack export | npm run -s wait-rolls -- --before before.json --after - --since $since",
        ],
        exitCodes: ["1  a roll failed (its group was rolled back) or did not end in time"],
    },
    async run(values, io) {
        const [{ AutoScalingClient }, { readStackGroups, rollsOf }, { waitForRolls }] = await Promise.all([
            import("@aws-sdk/client-auto-scaling"),
            import("../rollout/stackGroups"),
            import("../rollout/waitForRolls"),
        ]);
        const rolls = rollsOf(readStackGroups(values.before), readStackGroups(values.after));
        if (rolls.length === 0) {
            io.stdout("no group moved to a new launch template version: nothing rolls\n");
            return 0;
        }
        const results = await waitForRolls(new AutoScalingClient({}), rolls, values.since, {
            timeoutMs: values["timeout-minutes"] * 60_000,
            pollMs: 15_000,
            sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
            progress: (line) => io.stderr(`${line}\n`),
        });
        io.stdout(results.map((r) => `${r.ok ? "ok  " : "FAIL"} ${r.line}`).join("\n") + "\n");
        return results.every((r) => r.ok) ? 0 : 1;
    },
});

if (require.main === module) main(waitRollsCommand);
