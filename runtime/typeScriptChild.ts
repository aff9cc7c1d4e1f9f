import { spawn } from "child_process";
import * as path from "path";

/** The node options the npm scripts and `pulumi preview`/`up` run TypeScript with: the project's require hook. */
export const TS_HOOK_NODE_ARGS: readonly string[] = ["--require", path.join(__dirname, "tsRequireHook.cjs")];

/** How a child ended and what it wrote. */
export interface ChildResult {
    readonly status: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly stdout: string;
    readonly stderr: string;
}

/**
 * Runs a TypeScript file in a child node process, as the npm scripts run it. Its output is collected, not
 * streamed through, so the caller reports it once.
 */
export function runTypeScript(
    file: string,
    args: readonly string[],
    options: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv; readonly signal?: AbortSignal },
): Promise<ChildResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [...TS_HOOK_NODE_ARGS, file, ...args], {
            cwd: options.cwd,
            env: options.env ?? process.env,
            ...(options.signal ? { signal: options.signal } : {}),
            stdio: ["ignore", "pipe", "pipe"],
        });
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
        child.on("error", reject);
        child.on("close", (status, signal) =>
            resolve({ status, signal, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") }),
        );
    });
}
