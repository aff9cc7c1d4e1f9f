import { stopPid, track, untrack } from "./pids";
import { UnixAccount } from "./sandbox";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface RunOptions {
    readonly env?: NodeJS.ProcessEnv;
    readonly cwd?: string;
    /** Run as this account instead of root. */
    readonly as?: UnixAccount;
    readonly timeoutMs?: number;
    readonly input?: string;
}

export interface RunResult {
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs a command to completion (bounded: killed by PID after timeoutMs, default 60 s). */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, {
            env: options.env ?? baseEnv(),
            cwd: options.cwd,
            uid: options.as?.uid,
            gid: options.as?.gid,
            stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        const timeoutMs = options.timeoutMs ?? 60_000;
        const timer = setTimeout(() => {
            if (child.pid !== undefined) void stopPid(child.pid, "SIGKILL", 0).catch(() => undefined);
        }, timeoutMs);
        child.once("error", (err) => {
            clearTimeout(timer);
            reject(err);
        });
        child.once("close", (code, signal) => {
            clearTimeout(timer);
            resolve({ code, signal, stdout, stderr });
        });
        // A command that exits without reading its input closes the pipe: its exit status tells, not EPIPE.
        child.stdin.on("error", () => undefined);
        child.stdin.end(options.input ?? "");
    });
}

/** Like run, but throws with the command's output unless it exits 0. */
export async function runChecked(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const result = await run(command, args, options);
    if (result.code !== 0) {
        throw new Error(
            `${path.basename(command)} ${args.join(" ")} exited ${result.code ?? result.signal}:\n${result.stdout}${result.stderr}`,
        );
    }
    return result;
}

/** A long-running process started by the harness, its output going to a log file. */
export interface Service {
    readonly pid: number;
    readonly child: ChildProcess;
    readonly logFile: string;
    /** Resolves with the exit code (or signal name) when the process ends. */
    readonly exited: Promise<number | string>;
    exitStatus(): number | string | undefined;
}

export function startService(
    command: string,
    args: readonly string[],
    logFile: string,
    options: Omit<RunOptions, "timeoutMs" | "input"> = {},
): Service {
    const fd = fs.openSync(logFile, "a");
    let child: ChildProcess;
    try {
        child = spawn(command, args, {
            env: options.env ?? baseEnv(),
            cwd: options.cwd,
            uid: options.as?.uid,
            gid: options.as?.gid,
            stdio: ["ignore", fd, fd],
            // Its own process group: a Ctrl-C in the terminal reaches only the caller, which stops
            // the programs in order, by PID.
            detached: true,
        });
    } finally {
        fs.closeSync(fd);
    }
    if (child.pid === undefined) {
        throw new Error(`could not start ${command}`);
    }
    const pid = child.pid;
    track(pid);
    let status: number | string | undefined;
    const exited = new Promise<number | string>((resolve) => {
        child.once("exit", (code, signal) => {
            untrack(pid);
            status = code ?? signal ?? "unknown";
            resolve(status);
        });
        child.once("error", (err) => {
            status = `error: ${err.message}`;
            resolve(status);
        });
    });
    return { pid, child, logFile, exited, exitStatus: () => status };
}

/** PATH and locale only: no PG* variables from the caller's shell leak into the tier. */
export function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
        PATH: "/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        LANG: "C.UTF-8",
        LC_ALL: "C.UTF-8",
        ...extra,
    };
}

export function tail(file: string, lines = 40): string {
    try {
        return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
        return "(no log)";
    }
}
