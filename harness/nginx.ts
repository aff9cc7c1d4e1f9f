import * as path from "path";
import { NGINX_TEMP_DIRECTIVES } from "../components/render/nginxConf";
import { httpRequest } from "./clients";
import { childPids, isAlive, stopPid } from "./pids";
import { freePort, portAccepts } from "./ports";
import { baseEnv, run, RunResult, startService, tail } from "./run";
import { Sandbox } from "./sandbox";
import { sleep } from "./wait";

export const NGINX_BIN = "/usr/sbin/nginx";

/** What the harness may change in a rendered nginx.conf: the listen address, Gunicorn's port, and where nginx writes. */
export interface NginxRewrite {
    /** 127.0.0.1 port nginx listens on. */
    readonly port: number;
    /** 127.0.0.1 port of the Gunicorn it fronts. */
    readonly upstreamPort: number;
    /** A directory nginx's account may write (pid, logs, temp files). */
    readonly dir: string;
}

/**
 * The rendered config with only listen, the upstream servers' port, pid, logs and temp paths
 * replaced, and `user` dropped (an unprivileged nginx cannot switch users); throws when one is missing.
 */
export function rewriteNginxConf(conf: string, to: NginxRewrite): string {
    const seen = new Set<string>();
    const rules: [string, RegExp, (m: RegExpExecArray) => string | undefined][] = [
        ["listen", /^(\s*)listen \d+( .*)?;$/, (m) => `${m[1]}listen 127.0.0.1:${to.port}${m[2] ?? ""};`],
        ["server", /^(\s*)server 127\.0\.0\.1:\d+( .*)?;$/, (m) => `${m[1]}server 127.0.0.1:${to.upstreamPort}${m[2] ?? ""};`],
        ["pid", /^pid \S+;$/, () => `pid ${to.dir}/nginx.pid;`],
        ["error_log", /^error_log \S+( .*)?;$/, (m) => `error_log ${to.dir}/error.log${m[1] ?? ""};`],
        ["access_log", /^(\s*)access_log \S+;$/, (m) => `${m[1]}access_log ${to.dir}/access.log;`],
        ["user", /^user \S+;$/, () => undefined],
        ...NGINX_TEMP_DIRECTIVES.map((d): [string, RegExp, (m: RegExpExecArray) => string] => [
            d,
            new RegExp(`^(\\s*)${d} \\S+;$`),
            (m) => `${m[1]}${d} ${to.dir}/${d.split("_")[0]};`,
        ]),
    ];
    const out: string[] = [];
    for (const line of conf.split("\n")) {
        const rule = rules.find(([, re]) => re.test(line));
        if (!rule) {
            out.push(line);
            continue;
        }
        seen.add(rule[0]);
        const replaced = rule[2](rule[1].exec(line) as RegExpExecArray);
        if (replaced !== undefined) out.push(replaced);
    }
    const missing = rules.map(([name]) => name).filter((name) => !seen.has(name));
    if (missing.length > 0) throw new Error(`rendered nginx.conf lacks ${missing.join(", ")}`);
    return out.join("\n");
}

/** Writes the rewritten config into the sandbox (nginx/) and returns its path. */
export function writeNginxConf(sandbox: Sandbox, conf: string, port: number, upstreamPort: number): string {
    const dir = sandbox.mkdir("nginx");
    return sandbox.write("nginx/nginx.conf", rewriteNginxConf(conf, { port, upstreamPort, dir }), 0o644);
}

/** nginx -t on a config file, as the sandbox's account (the early error log in the sandbox too). */
export function nginxTest(sandbox: Sandbox, confPath: string): Promise<RunResult> {
    return run(NGINX_BIN, ["-t", "-e", sandbox.path("nginx/early-error.log"), "-c", confPath], {
        env: baseEnv(),
        timeoutMs: 30_000,
        as: sandbox.account,
    });
}

export interface NginxOptions {
    /** The rendered nginx.conf. */
    readonly conf: string;
    /** Port of the Gunicorn on 127.0.0.1 it fronts. */
    readonly upstreamPort: number;
    readonly sandbox: Sandbox;
    /** Port on 127.0.0.1 (default: a free one). */
    readonly port?: number;
    readonly startTimeoutSeconds?: number;
}

export interface NginxProcess {
    readonly host: "127.0.0.1";
    readonly port: number;
    readonly baseUrl: string;
    /** The master's PID. */
    readonly pid: number;
    readonly confPath: string;
    readonly errorLog: string;
    workerPids(): number[];
    /** SIGTERM (fast shutdown) to the master, then its workers by PID. Idempotent. */
    stop(): Promise<void>;
}

/** Starts Debian's nginx in the foreground with the rendered config (nginx -t first), unprivileged, on 127.0.0.1. */
export async function startNginx(options: NginxOptions): Promise<NginxProcess> {
    const { sandbox } = options;
    const port = options.port ?? (await freePort());
    const confPath = writeNginxConf(sandbox, options.conf, port, options.upstreamPort);
    const test = await nginxTest(sandbox, confPath);
    if (test.code !== 0) throw new Error(`nginx -t refused the rendered config:\n${test.stderr}`);
    const errorLog = sandbox.path("nginx/error.log");
    const service = startService(
        NGINX_BIN,
        ["-e", sandbox.path("nginx/early-error.log"), "-c", confPath, "-g", "daemon off;"],
        sandbox.path("nginx/stderr.log"),
        { env: baseEnv(), cwd: path.dirname(confPath), as: sandbox.account },
    );
    const workerPids = () => childPids(service.pid);
    const stop = async () => {
        const workers = workerPids();
        await stopPid(service.pid, "SIGTERM", 10_000);
        for (const pid of workers) {
            if (isAlive(pid)) await stopPid(pid, "SIGKILL", 0);
        }
    };
    const deadline = Date.now() + (options.startTimeoutSeconds ?? 10) * 1000;
    for (;;) {
        if (service.exitStatus() !== undefined) {
            throw new Error(`nginx exited (${service.exitStatus()}) at start:\n${tail(service.logFile)}\n${tail(errorLog)}`);
        }
        // Any HTTP answer from nginx itself (the upstream may still be starting).
        if (
            (await portAccepts(port)) &&
            (await httpRequest({ port, method: "GET", path: "/__harness_ready", timeoutMs: 2000 }).catch(() => undefined))
        )
            break;
        if (Date.now() > deadline) {
            await stop();
            throw new Error(`nginx not serving on 127.0.0.1:${port}:\n${tail(service.logFile)}\n${tail(errorLog)}`);
        }
        await sleep(50);
    }
    return { host: "127.0.0.1", port, baseUrl: `http://127.0.0.1:${port}`, pid: service.pid, confPath, errorLog, workerPids, stop };
}
