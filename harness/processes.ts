import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

/** The unprivileged account the tier's programs run as when started by root (initdb and pgbouncer refuse root). */
export const SERVICE_USER = "postgres";

export interface UnixAccount {
    readonly uid: number;
    readonly gid: number;
}

/** uid/gid of a local account, from /etc/passwd. */
export function unixAccount(name: string): UnixAccount {
    const line = fs
        .readFileSync("/etc/passwd", "utf8")
        .split("\n")
        .find((l) => l.split(":")[0] === name);
    if (!line) {
        throw new Error(`no local account ${name}: install postgresql-15 (it creates the postgres user)`);
    }
    const fields = line.split(":");
    return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** Who runs the tier's programs: SERVICE_USER when the caller is root, else the caller itself. */
export function serviceAccount(): UnixAccount {
    const uid = process.getuid?.() ?? 0;
    return uid === 0 ? unixAccount(SERVICE_USER) : { uid, gid: process.getgid?.() ?? uid };
}

/**
 * Throws unless `account` can use `dir` (`-w`: write, `-r`: read) and reach it: a parent closed to
 * the account (such as /root) would otherwise stop each program with a less helpful error.
 */
export function assertReachable(account: UnixAccount, dir: string, access: "-w" | "-r"): void {
    const probe = spawnSync("test", [access, dir, "-a", "-x", dir], { uid: account.uid, gid: account.gid });
    if (probe.status !== 0) {
        throw new Error(
            `${dir} is out of reach for uid ${account.uid}, which runs the tier's programs (a parent directory is closed to it): ` +
                "use a directory it can reach",
        );
    }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value other than undefined; throws after `timeoutMs`. */
export async function waitFor<T>(
    what: string,
    timeoutMs: number,
    probe: () => Promise<T | undefined> | T | undefined,
    intervalMs = 100,
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
        try {
            const value = await probe();
            if (value !== undefined) return value;
        } catch (err) {
            lastError = err;
        }
        if (Date.now() >= deadline) {
            const detail = lastError instanceof Error ? `: ${lastError.message}` : "";
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
        }
        await sleep(intervalMs);
    }
}

/** A port on 127.0.0.1 the OS just handed out as free. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const address = server.address();
            server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
        });
    });
}

/** True when nothing listens on 127.0.0.1:port (we could bind it ourselves). */
export function portFree(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const server = net.createServer();
        server.unref();
        server.once("error", () => resolve(false));
        server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
    });
}

/** True once something accepts TCP connections on 127.0.0.1:port. */
export function portAccepts(port: number, timeoutMs = 1000): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ host: "127.0.0.1", port });
        const done = (ok: boolean) => {
            socket.destroy();
            resolve(ok);
        };
        socket.setTimeout(timeoutMs, () => done(false));
        socket.once("connect", () => done(true));
        socket.once("error", () => done(false));
    });
}

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
        return state !== "Z" && state !== "X";
    } catch {
        return false;
    }
}

/** The process's start time (clock ticks since boot, /proc/<pid>/stat field 22), undefined if gone. */
export function processStartTime(pid: number): string | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    } catch {
        return undefined;
    }
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
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            if (ppid === pid) children.push(Number(entry));
        } catch {
            // exited while we looked
        }
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

/**
 * The directory everything the tier writes lives in, owned by the service account (mode 0700):
 * a fresh temp dir (`Sandbox.temp`), or a persistent state dir (`Sandbox.at`) whose kept
 * entries (the database) survive `remove()`.
 */
export class Sandbox {
    readonly account: UnixAccount = serviceAccount();

    private constructor(
        readonly dir: string,
        private readonly keep: readonly string[] | undefined,
    ) {
        fs.chmodSync(this.dir, 0o700);
        fs.chownSync(this.dir, this.account.uid, this.account.gid);
    }

    /** A new temp dir, removed entirely by `remove()`. */
    static temp(prefix = "receiver-tier-it-"): Sandbox {
        return new Sandbox(fs.mkdtempSync(path.join(os.tmpdir(), prefix)), undefined);
    }

    /** `dir` (created if missing); `remove()` empties it except the `keep` entries. */
    static at(dir: string, keep: readonly string[]): Sandbox {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        const sandbox = new Sandbox(path.resolve(dir), keep);
        assertReachable(sandbox.account, sandbox.dir, "-w");
        return sandbox;
    }

    /** A path inside the sandbox. */
    path(...parts: string[]): string {
        return path.join(this.dir, ...parts);
    }

    /** Makes a directory owned by the service account. */
    mkdir(name: string, mode = 0o700): string {
        const dir = this.path(name);
        fs.mkdirSync(dir, { recursive: true, mode });
        fs.chownSync(dir, this.account.uid, this.account.gid);
        return dir;
    }

    /** Writes a file owned by the service account. */
    write(name: string, content: string, mode = 0o600): string {
        const file = this.path(name);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content, { mode });
        fs.chmodSync(file, mode);
        fs.chownSync(file, this.account.uid, this.account.gid);
        return file;
    }

    /** Removes what the tier wrote (a temp dir is kept when RECEIVER_TIER_IT_KEEP=1, for debugging). */
    remove(): void {
        if (this.keep === undefined) {
            if (process.env.RECEIVER_TIER_IT_KEEP === "1") return;
            fs.rmSync(this.dir, { recursive: true, force: true });
            return;
        }
        for (const entry of fs.readdirSync(this.dir)) {
            if (!this.keep.includes(entry)) fs.rmSync(this.path(entry), { recursive: true, force: true });
        }
    }
}
