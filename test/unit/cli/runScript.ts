import { spawnSync, SpawnSyncOptionsWithStringEncoding, SpawnSyncReturns } from "child_process";
import * as path from "path";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..", "..");

/** Runs one of the project's scripts as its npm script does (node with tsx's loader), from the project root. */
export function runScript(
    script: string,
    args: readonly string[],
    options: Partial<SpawnSyncOptionsWithStringEncoding> = {},
): SpawnSyncReturns<string> {
    const result = spawnSync(process.execPath, ["--import", "tsx", script, ...args], {
        cwd: PROJECT_DIR,
        timeout: 60_000,
        maxBuffer: 64 * 1024 * 1024,
        ...options,
        encoding: "utf8",
    });
    if (result.error) throw result.error;
    return result;
}
