import * as fs from "fs";
import * as path from "path";
import { httpRequest } from "./clients";
import { childPids, isAlive, stopPid } from "./pids";
import { freePort, portAccepts } from "./ports";
import { baseEnv, run, RunResult, startService, tail } from "./run";
import { Sandbox } from "./sandbox";
import { sleep } from "./wait";

export const GUNICORN_BIN = "/usr/bin/gunicorn";
/** Debian's python3: the one with python3-psycopg2 (a pyenv python on PATH may lack it). */
export const SYSTEM_PYTHON = "/usr/bin/python3";
/** The reference receiver app (module webhook_receiver). */
export const RECEIVER_APP_DIR = path.resolve(__dirname, "../files/receiver");

/** What the harness may change in a rendered gunicorn.conf.py: bind, chdir and log paths. */
export interface GunicornRewrite {
    readonly bind: string;
    readonly chdir: string;
    readonly accesslog?: string;
    readonly errorlog?: string;
}

/** The rendered config with only those assignments replaced; throws when bind or chdir is missing. */
export function rewriteGunicornConf(conf: string, to: GunicornRewrite): string {
    const replacements: Record<string, string | undefined> = {
        bind: to.bind,
        chdir: to.chdir,
        accesslog: to.accesslog,
        errorlog: to.errorlog,
    };
    const seen = new Set<string>();
    const out = conf.split("\n").map((line) => {
        const m = /^(\w+)(\s*=\s*)(.*)$/.exec(line);
        const key = m?.[1];
        if (!m || key === undefined || !(key in replacements)) return line;
        const value = replacements[key];
        if (value === undefined) return line;
        seen.add(key);
        return `${key}${m[2]}${JSON.stringify(value)}`;
    });
    const missing = ["bind", "chdir"].filter((key) => !seen.has(key));
    if (missing.length > 0) {
        throw new Error(`rendered gunicorn.conf.py lacks ${missing.join(", ")}`);
    }
    return out.join("\n");
}

/**
 * KEY=value lines of a rendered env file (systemd EnvironmentFile / sh syntax: '...' quoting,
 * with '"'"' for a quote inside), comments and blank lines skipped.
 */
export function parseEnvFile(text: string): Record<string, string> {
    const vars: Record<string, string> = {};
    for (const line of text.split("\n")) {
        if (/^\s*(#|$)/.test(line)) continue;
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
        if (!m) throw new Error(`not an env line: ${line}`);
        let value = "";
        const raw = m[2] as string;
        const parts = raw.matchAll(/'([^']*)'|"([^"]*)"|([^'"]+)/g);
        for (const part of parts) value += part[1] ?? part[2] ?? part[3] ?? "";
        vars[m[1] as string] = value;
    }
    return vars;
}

export interface GunicornOptions {
    /** The rendered gunicorn.conf.py. */
    readonly conf: string;
    /** The rendered receiver.env. */
    readonly receiverEnv: string;
    /** Secrets the app gets beside receiver.env. */
    readonly secretEnv: Readonly<Record<string, string>>;
    /** Where the app finds PgBouncer (replaces DB_HOST / DB_PORT). */
    readonly dbHost: string;
    readonly dbPort: number;
    readonly sandbox: Sandbox;
    /** Port on 127.0.0.1 (default: a free one). */
    readonly port?: number;
    readonly startTimeoutSeconds?: number;
}

export interface GunicornProcess {
    readonly host: "127.0.0.1";
    readonly port: number;
    readonly baseUrl: string;
    /** The master's PID. */
    readonly pid: number;
    readonly confPath: string;
    readonly logFile: string;
    /** The environment the app runs with (receiver.env with DB_HOST/DB_PORT rewritten, plus secrets). */
    readonly appEnv: Readonly<Record<string, string>>;
    workerPids(): number[];
    /** SIGINT (quick shutdown) to the master, then its workers by PID. Idempotent. */
    stop(): Promise<void>;
}

/**
 * Installs the reference app into the sandbox, as a receiver host has it in /opt/webhook-receiver/app:
 * the service account runs it from there, wherever the checkout lives.
 */
function installReceiverApp(sandbox: Sandbox): string {
    const app = "webhook_receiver.py";
    sandbox.write(`app/${app}`, fs.readFileSync(path.join(RECEIVER_APP_DIR, app), "utf8"), 0o644);
    return sandbox.path("app");
}

/** Writes the rewritten config into the sandbox and returns its path (also used by --check-config). */
export async function writeGunicornConf(sandbox: Sandbox, conf: string, port: number): Promise<string> {
    const dir = sandbox.mkdir("gunicorn");
    const rewritten = rewriteGunicornConf(conf, {
        bind: `127.0.0.1:${port}`,
        chdir: installReceiverApp(sandbox),
        accesslog: `${dir}/access.log`,
        errorlog: `${dir}/error.log`,
    });
    return sandbox.write("gunicorn/gunicorn.conf.py", rewritten, 0o644);
}

/** The app's environment: receiver.env as rendered, DB_HOST/DB_PORT pointed at the sandbox, plus secrets. */
export function receiverAppEnv(
    receiverEnv: string,
    dbHost: string,
    dbPort: number,
    secretEnv: Readonly<Record<string, string>>,
): Record<string, string> {
    const env = parseEnvFile(receiverEnv);
    for (const key of ["DB_HOST", "DB_PORT"]) {
        if (!(key in env)) throw new Error(`rendered receiver.env lacks ${key}`);
    }
    return { ...env, DB_HOST: dbHost, DB_PORT: String(dbPort), ...secretEnv };
}

/** gunicorn --check-config -c <conf> [app], with the given environment. */
export function gunicornCheckConfig(confPath: string, app: string | undefined, env: Record<string, string>): Promise<RunResult> {
    return run(GUNICORN_BIN, ["--check-config", "-c", confPath, ...(app ? [app] : [])], {
        env: baseEnv({ ...env, PYTHONDONTWRITEBYTECODE: "1" }),
        cwd: RECEIVER_APP_DIR,
        timeoutMs: 30_000,
    });
}

/** Starts /usr/bin/gunicorn -c <rendered conf> (its wsgi_app) serving the reference app on 127.0.0.1, as the service account. */
export async function startGunicorn(options: GunicornOptions): Promise<GunicornProcess> {
    const { sandbox } = options;
    const port = options.port ?? (await freePort());
    const confPath = await writeGunicornConf(sandbox, options.conf, port);
    const appEnv = receiverAppEnv(options.receiverEnv, options.dbHost, options.dbPort, options.secretEnv);
    const service = startService(GUNICORN_BIN, ["-c", confPath], sandbox.path("gunicorn/stderr.log"), {
        env: baseEnv({ ...appEnv, PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1" }),
        cwd: sandbox.path("app"),
        as: sandbox.account,
    });
    const workerPids = () => childPids(service.pid);
    const stop = async () => {
        const workers = workerPids();
        await stopPid(service.pid, "SIGINT", 10_000);
        for (const pid of workers) {
            if (isAlive(pid)) await stopPid(pid, "SIGKILL", 0);
        }
    };
    const deadline = Date.now() + (options.startTimeoutSeconds ?? 20) * 1000;
    const errorLog = `${path.dirname(confPath)}/error.log`;
    for (;;) {
        if (service.exitStatus() !== undefined) {
            throw new Error(`gunicorn exited (${service.exitStatus()}) at start:\n${tail(service.logFile)}\n${tail(errorLog)}`);
        }
        // A worker answered (404 for an unknown path): the app imported and the worker booted.
        if (
            (await portAccepts(port)) &&
            (await httpRequest({ port, method: "GET", path: "/__harness_ready", timeoutMs: 2000 }).catch(() => undefined))?.status === 404
        )
            break;
        if (Date.now() > deadline) {
            await stop();
            throw new Error(`gunicorn not serving on 127.0.0.1:${port}:\n${tail(service.logFile)}\n${tail(errorLog)}`);
        }
        await sleep(50);
    }
    return {
        host: "127.0.0.1",
        port,
        baseUrl: `http://127.0.0.1:${port}`,
        pid: service.pid,
        confPath,
        logFile: errorLog,
        appEnv,
        workerPids,
        stop,
    };
}
