import { spawnSync, SpawnSyncOptionsWithStringEncoding, SpawnSyncReturns } from "child_process";
import { Command, Io, Options, runCommand } from "../../../scripts/args";
import { TS_HOOK_NODE_ARGS } from "../../../runtime/typeScriptChild";
import { PROJECT_DIR } from "../support/projectDir";

/** Runs one of the project's scripts as its npm script does, from the project root. */
export function runScript(
    script: string,
    args: readonly string[],
    options: Partial<SpawnSyncOptionsWithStringEncoding> = {},
): SpawnSyncReturns<string> {
    const result = spawnSync(process.execPath, [...TS_HOOK_NODE_ARGS, script, ...args], {
        cwd: PROJECT_DIR,
        timeout: 60_000,
        maxBuffer: 64 * 1024 * 1024,
        ...options,
        encoding: "utf8",
    });
    if (result.error) throw result.error;
    return result;
}

/** What a command returned when run in this process: its exit code and what it wrote. */
export interface CommandResult {
    readonly status: number;
    readonly stdout: string;
    readonly stderr: string;
}

/**
 * Runs a command in this process as its script's main() runs it, with `env` as process.env meanwhile.
 * The scripts' exit status itself is tested through real processes in commands.test.ts.
 */
export async function runInProcess<O extends Options>(
    command: Command<O>,
    args: readonly string[],
    env: NodeJS.ProcessEnv = process.env,
): Promise<CommandResult> {
    const out = { stdout: "", stderr: "" };
    const io: Io = { stdout: (text) => (out.stdout += text), stderr: (text) => (out.stderr += text), progress: () => undefined };
    const saved = process.env;
    process.env = env;
    try {
        return { status: await runCommand(command, args, io), ...out };
    } finally {
        process.env = saved;
    }
}
