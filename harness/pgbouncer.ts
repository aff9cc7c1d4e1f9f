import * as fs from "fs";
import { iniLines, iniSections } from "../components/render/iniParser";
import { repointDatabases } from "../components/render/iniRepoint";
import { isAlive, stopPid } from "./pids";
import { freePort, portAccepts } from "./ports";
import { Service, startService, tail } from "./run";
import { Sandbox } from "./sandbox";
import { sleep } from "./wait";

export const PGBOUNCER_BIN = "/usr/sbin/pgbouncer";

/** What the harness may change in a rendered pgbouncer.ini: file paths, where it listens, where Postgres is. */
export interface IniRewrite {
    readonly listenAddr: string;
    readonly listenPort: number;
    readonly authFile: string;
    readonly logfile: string;
    readonly pidfile: string;
    readonly unixSocketDir: string;
    /** New host/port for every [databases] entry. */
    readonly serverHost: string;
    readonly serverPort: number;
    /** Host paths the ini names (TLS files) -> where the sandbox holds them. */
    readonly files?: Readonly<Record<string, string>>;
}

/**
 * The rendered ini with only the allowed values replaced; every other line stays byte for byte.
 * Throws if a key it must rewrite is missing, so a renderer change cannot slip past silently.
 */
export function rewriteIni(ini: string, to: IniRewrite): string {
    const replacements: Record<string, string> = {
        listen_addr: to.listenAddr,
        listen_port: String(to.listenPort),
        auth_file: to.authFile,
        logfile: to.logfile,
        pidfile: to.pidfile,
        unix_socket_dir: to.unixSocketDir,
    };
    const seen = new Set<string>();
    const repointed = repointDatabases(ini, to.serverHost, to.serverPort);
    const lines = repointed.split("\n");
    for (const entry of iniLines(repointed)) {
        if (entry.kind !== "entry" || entry.section?.toLowerCase() !== "pgbouncer") continue;
        const line = lines[entry.number - 1] as string;
        // Only the value changes: the key, its '=' and the spacing around it stay as rendered.
        const head = (/^[^=]*=\s*/.exec(line) as RegExpExecArray)[0];
        if (entry.key in replacements) {
            seen.add(entry.key);
            lines[entry.number - 1] = `${head}${replacements[entry.key]}`;
        } else if (to.files?.[entry.value] !== undefined) {
            lines[entry.number - 1] = `${head}${to.files[entry.value]}`;
        }
    }
    const missing = Object.keys(replacements).filter((key) => !seen.has(key));
    if (missing.length > 0) throw new Error(`rendered pgbouncer.ini lacks ${missing.join(", ")}`);
    return lines.join("\n");
}

/** [pgbouncer] key -> value of an ini, comments skipped (the project's one ini parser). */
export function iniSettings(ini: string): Map<string, string> {
    return iniSections(ini).get("pgbouncer") ?? new Map<string, string>();
}

export interface PgbouncerOptions {
    /** The rendered pgbouncer.ini. */
    readonly ini: string;
    /** The rendered userlist.txt. */
    readonly userlist: string;
    /** Where PostgreSQL listens. */
    readonly serverHost: string;
    readonly serverPort: number;
    readonly sandbox: Sandbox;
    /** Port on 127.0.0.1 (default: a free one). */
    readonly port?: number;
    /** Files the ini names by host path (TLS certificates and keys), by content: written to the sandbox (0600). */
    readonly files?: Readonly<Record<string, string>>;
    /** Seconds to wait for the listener (default 15). */
    readonly startTimeoutSeconds?: number;
}

export interface PgbouncerProcess {
    readonly host: "127.0.0.1";
    readonly port: number;
    /** The running process (a restart starts a new one on the same port). */
    readonly pid: number;
    readonly iniPath: string;
    readonly logFile: string;
    /** The ini PgBouncer reads (rendered + rewritten paths/ports). */
    readonly ini: string;
    alive(): boolean;
    /** Writes a newly rendered ini (rewritten the same way), and userlist if given, then SIGHUP to the PID: PgBouncer's reload. */
    reload(renderedIni: string, userlist?: string): Promise<void>;
    /** Points every [databases] entry at another PostgreSQL (an operator's failover), then SIGHUP; later reloads keep it. */
    repoint(serverHost: string, serverPort: number): Promise<void>;
    /**
     * `systemctl restart pgbouncer` as the runbook does it (Debian's unit stops with SIGTERM: immediate shutdown,
     * in-flight transactions cut), then a new process on the same files and port.
     * Resolves once the new one listens; returns how long the port refused connections (ms).
     */
    restart(): Promise<number>;
    /** SIGTERM (immediate shutdown) to the PID, SIGKILL after 5 s. Idempotent. */
    stop(): Promise<void>;
}

/** Starts /usr/sbin/pgbouncer in the foreground as the service account with the rendered files. */
export async function startPgbouncer(options: PgbouncerOptions): Promise<PgbouncerProcess> {
    const { sandbox } = options;
    const dir = sandbox.mkdir("pgbouncer");
    const port = options.port ?? (await freePort());
    const authFile = sandbox.write("pgbouncer/userlist.txt", options.userlist, 0o600);
    const files = Object.fromEntries(
        Object.entries(options.files ?? {}).map(([hostPath, content]) => [
            hostPath,
            sandbox.write(`pgbouncer/${hostPath.replace(/\//g, "_")}`, content, 0o600),
        ]),
    );
    let rewrite: IniRewrite = {
        listenAddr: "127.0.0.1",
        listenPort: port,
        authFile,
        logfile: `${dir}/pgbouncer.log`,
        pidfile: `${dir}/pgbouncer.pid`,
        unixSocketDir: dir,
        serverHost: options.serverHost,
        serverPort: options.serverPort,
        files,
    };
    let ini = rewriteIni(options.ini, rewrite);
    const iniPath = sandbox.write("pgbouncer/pgbouncer.ini", ini, 0o640);
    const spawn = (): Service =>
        startService(PGBOUNCER_BIN, [iniPath], sandbox.path("pgbouncer/stderr.log"), { as: sandbox.account, cwd: dir });
    let service = spawn();
    const stop = () => stopPid(service.pid, "SIGTERM", 5000);
    const listening = async () => {
        const deadline = Date.now() + (options.startTimeoutSeconds ?? 15) * 1000;
        for (;;) {
            if (service.exitStatus() !== undefined) {
                throw new Error(`pgbouncer exited (${service.exitStatus()}) at start:\n${tail(service.logFile)}`);
            }
            if (await portAccepts(port)) return;
            if (Date.now() > deadline) {
                await stop();
                throw new Error(`pgbouncer not listening on 127.0.0.1:${port} after start:\n${tail(service.logFile)}`);
            }
            await sleep(20);
        }
    };
    await listening();
    return {
        host: "127.0.0.1",
        port,
        get pid() {
            return service.pid;
        },
        iniPath,
        logFile: service.logFile,
        get ini() {
            return ini;
        },
        alive: () => isAlive(service.pid),
        async reload(renderedIni: string, userlist?: string) {
            ini = rewriteIni(renderedIni, rewrite);
            fs.writeFileSync(iniPath, ini);
            if (userlist !== undefined) fs.writeFileSync(authFile, userlist);
            process.kill(service.pid, "SIGHUP");
        },
        async repoint(serverHost: string, serverPort: number) {
            rewrite = { ...rewrite, serverHost, serverPort };
            ini = rewriteIni(ini, rewrite);
            fs.writeFileSync(iniPath, ini);
            process.kill(service.pid, "SIGHUP");
        },
        async restart() {
            await stopPid(service.pid, "SIGTERM", 5000);
            const down = Date.now();
            service = spawn();
            await listening();
            return Date.now() - down;
        },
        stop,
    };
}
