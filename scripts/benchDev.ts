import { command, integer, main, projectDirOption, text, withDefault } from "./args";
import { devLoopMarkdown, measureDevLoop } from "../devloop/devLoop";

export const benchDevCommand = command({
    spec: {
        name: "bench:dev",
        summary:
            "Measures the development loop in one run: `tsc --noEmit`, loading the SDKs the program uses, the unit suite, `npm run plan`, and the program started as Pulumi's language host starts it for `pulumi preview` (Pulumi.yaml's runtime options, the SDK's mocks in place of the engine) up to its first resource; the last two with the TypeScript cache as it is and empty, and the start also through the language host's own ts-node and with `--stack-trace-limit=0`, for comparison. Prints a markdown table with each figure's median, fastest run, ratios and issue 13's target (BENCHMARKS.md).",
        options: {
            stack: withDefault("<name>", "stack to plan and start (Pulumi.<name>.yaml)", text, "canary"),
            runs: withDefault("<n>", "runs of each short figure; the median and the fastest are shown", integer(1, 9), "3"),
            "project-dir": projectDirOption,
        },
        examples: ["npm run -s bench:dev", "npm run -s bench:dev -- --runs 5 >> BENCHMARKS.md"],
    },
    async run(values, io) {
        io.progress(`measuring the development loop (about four minutes)`);
        io.stdout(devLoopMarkdown(measureDevLoop(values["project-dir"], values.stack, values.runs)));
        return 0;
    },
});

if (require.main === module) main(benchDevCommand);
