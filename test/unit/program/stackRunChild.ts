// A child process of the unit suite's global setup: one stack's unedited program run, as JSON on stdout.
import { runProgram } from "./programRun";

const stack = process.argv[2] as string;
runProgram(stack).then(
    (run) => process.stdout.write(JSON.stringify(run)),
    (err: unknown) => {
        process.stderr.write(`stack ${stack}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exit(1);
    },
);
