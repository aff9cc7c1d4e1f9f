import { sleep } from "./wait";
import * as fs from "fs";

/**
 * The fields of /proc/<pid>/stat after the command name (state first, so field 3 of proc(5) is
 * index 0); undefined once the process is gone. The name is cut at its last ")", as it may hold any.
 */
function procStat(pid: number): string[] | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    } catch {
        return undefined;
    }
}

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
    const state = procStat(pid)?.[0];
    return state !== undefined && state !== "Z" && state !== "X";
}

/** The process's start time (clock ticks since boot, /proc/<pid>/stat field 22), undefined if gone. */
export function processStartTime(pid: number): string | undefined {
    return procStat(pid)?.[19];
}

// Every process the harness started, by PID and start time (so a reused PID is never mistaken for
// ours). If the test process exits without teardown, the exit hook ends whatever is still running.
const tracked = new Map<number, string>();
let exitHookInstalled = false;

/** Remembers a PID the harness started, for the exit-time safety net. */
export function track(pid: number): void {
    const started = processStartTime(pid);
    if (started === undefined) return;
    tracked.set(pid, started);
    if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.on("exit", () => {
            for (const [tpid, tstart] of tracked) {
                if (isAlive(tpid) && processStartTime(tpid) === tstart) {
                    try {
                        process.kill(tpid, "SIGKILL");
                    } catch {
                        // gone meanwhile
                    }
                }
            }
        });
    }
}

export function untrack(pid: number): void {
    tracked.delete(pid);
}

/** PIDs the harness started that are still running. */
export function trackedAlive(): number[] {
    return [...tracked].filter(([pid, start]) => isAlive(pid) && processStartTime(pid) === start).map(([pid]) => pid);
}

/** Direct children of a process, from /proc. */
export function childPids(pid: number): number[] {
    const children: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        if (Number(procStat(Number(entry))?.[1]) === pid) children.push(Number(entry));
    }
    return children;
}

/**
 * Ends one process by PID: `signal`, then SIGKILL if it is still there after `graceMs`.
 * Resolves once it is gone; throws if even SIGKILL did not end it within 5 s.
 */
export async function stopPid(pid: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
    try {
        await endPid(pid, signal, graceMs);
    } finally {
        if (!isAlive(pid)) untrack(pid);
    }
}

async function endPid(pid: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
    if (!isAlive(pid)) return;
    try {
        process.kill(pid, signal);
    } catch {
        return; // already gone
    }
    const gone = async (ms: number) => {
        const deadline = Date.now() + ms;
        while (Date.now() < deadline) {
            if (!isAlive(pid)) return true;
            await sleep(25);
        }
        return !isAlive(pid);
    };
    if (await gone(graceMs)) return;
    try {
        process.kill(pid, "SIGKILL");
    } catch {
        return;
    }
    if (!(await gone(5000))) {
        throw new Error(`process ${pid} survived SIGKILL`);
    }
}
