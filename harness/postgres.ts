import { randomBytes } from "crypto";
import * as fs from "fs";
import { Client } from "pg";
import { isAlive, stopPid, track, untrack } from "./pids";
import { freePort } from "./ports";
import { baseEnv, run, runChecked, tail } from "./run";
import { Sandbox, UnixAccount } from "./sandbox";

export const PG_BIN = "/usr/lib/postgresql/15/bin";

export interface PostgresOptions {
    /** max_connections of the server (default 100). */
    readonly maxConnections?: number;
    /** superuser_reserved_connections (default 3). */
    readonly superuserReservedConnections?: number;
    /** pg_hba method for every non-superuser role over 127.0.0.1 (default scram-sha-256). Never trust. */
    readonly hostAuthMethod?: "scram-sha-256" | "md5";
    /** Extra postgresql.conf settings. */
    readonly settings?: Readonly<Record<string, string | number>>;
    /** Where to put the cluster; a new sandbox (removed by stop()) when omitted. A cluster already in it is reused. */
    readonly sandbox?: Sandbox;
    /** Port on 127.0.0.1 (default: a free one). */
    readonly port?: number;
    /** Told before each slow step. */
    readonly progress?: (line: string) => void;
    /**
     * Make this a streaming standby of that cluster (pg_basebackup -R) instead of running initdb; it shares the
     * primary's superuser password and reports to it as application_name `name`.
     */
    readonly standbyOf?: PostgresCluster;
    /** The cluster's name inside the sandbox: its data dir, socket dir and log (default "pg"; data in pgdata). */
    readonly name?: string;
}

export interface PostgresCluster {
    readonly host: "127.0.0.1";
    readonly port: number;
    /** Directory of the unix socket (0700, service account). */
    readonly socketDir: string;
    readonly dataDir: string;
    /** False when the sandbox already held a cluster, which was started as it was. */
    readonly initialized: boolean;
    readonly logFile: string;
    readonly superuser: "postgres";
    readonly superuserPassword: string;
    /** postgresql://postgres:<password>@127.0.0.1:<port>/postgres (SCRAM over TCP). */
    readonly superuserUrl: string;
    /** The postmaster's PID now (from postmaster.pid), undefined while stopped. */
    pid(): number | undefined;
    /** A connected superuser client over the unix socket; the caller ends it. */
    connect(database?: string): Promise<Client>;
    /** Runs one statement as superuser over the unix socket and returns its rows. */
    query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, database?: string, params?: unknown[]): Promise<T[]>;
    /** psql -v ON_ERROR_STOP=1 -f file as superuser; throws with psql's output on failure. */
    psqlFile(database: string, file: string): Promise<string>;
    createDatabase(name: string): Promise<void>;
    /** Rewrites the harness's settings file with these on top of the start's, then pg_reload_conf(). */
    reloadWith(settings: Readonly<Record<string, string | number>>): Promise<void>;
    /** pg_ctl promote, waiting until the standby accepts writes. */
    promote(): Promise<void>;
    /** pg_ctl start / stop -m fast / restart -m fast, each waiting (bounded) for the result; the cluster stays. */
    startServer(): Promise<void>;
    stopServer(): Promise<void>;
    restartServer(): Promise<void>;
    /** Teardown: stops the server (by PID if pg_ctl cannot) and removes its sandbox if it owns it. Idempotent. */
    stop(): Promise<void>;
}

const PG_CTL_WAIT_SECONDS = 30;
/** Included from postgresql.conf and rewritten at every start, so a kept cluster follows new ports and limits. */
const SETTINGS_FILE = "receiver-tier.conf";

/** initdb (unless the sandbox holds a cluster) + start PostgreSQL 15 on 127.0.0.1, run as the service account. */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresCluster> {
    const ownsSandbox = options.sandbox === undefined;
    const sandbox = options.sandbox ?? Sandbox.temp("receiver-tier-pg-");
    const as = sandbox.account;
    const name = options.name ?? "pg";
    const primary = options.standbyOf;
    const dataDir = sandbox.path(name === "pg" ? "pgdata" : `${name}-data`);
    const socketDir = sandbox.mkdir(name === "pg" ? "pgsocket" : `${name}-socket`);
    const logFile = sandbox.write(name === "pg" ? "postgres.log" : `${name}.log`, "", 0o600);
    const superuserPassword = primary?.superuserPassword ?? randomBytes(12).toString("hex");
    const initialized = !fs.existsSync(`${dataDir}/PG_VERSION`);
    const port = options.port ?? (await freePort());
    const env = baseEnv({ HOME: sandbox.dir });
    const method = options.hostAuthMethod ?? "scram-sha-256";
    let lastPid: number | undefined;

    const pid = (): number | undefined => {
        try {
            const first = fs.readFileSync(`${dataDir}/postmaster.pid`, "utf8").split("\n")[0];
            const value = Number(first);
            if (Number.isInteger(value) && value > 0 && isAlive(value)) {
                if (value !== lastPid) {
                    if (lastPid !== undefined && !isAlive(lastPid)) untrack(lastPid);
                    track(value);
                }
                lastPid = value;
                return value;
            }
        } catch {
            // stopped
        }
        return undefined;
    };
    const pgCtl = (args: string[]) =>
        runChecked(`${PG_BIN}/pg_ctl`, ["-D", dataDir, "-w", "-t", String(PG_CTL_WAIT_SECONDS), ...args], {
            as,
            env,
            cwd: sandbox.dir,
            timeoutMs: (PG_CTL_WAIT_SECONDS + 10) * 1000,
        });

    let stopped = false;
    const cluster: PostgresCluster = {
        host: "127.0.0.1",
        port,
        socketDir,
        dataDir,
        initialized,
        logFile,
        superuser: "postgres",
        superuserPassword,
        superuserUrl: `postgresql://postgres:${superuserPassword}@127.0.0.1:${port}/postgres`,
        pid,
        async connect(database = "postgres") {
            const client = new Client({ host: socketDir, port, user: "postgres", database, connectionTimeoutMillis: 10_000 });
            client.on("error", () => undefined); // a server restart must not crash the test process
            await client.connect();
            return client;
        },
        async query<T extends Record<string, unknown>>(sql: string, database?: string, params?: unknown[]) {
            const client = await cluster.connect(database);
            try {
                return (await client.query<T>(sql, params)).rows;
            } finally {
                await client.end();
            }
        },
        async psqlFile(database, file) {
            const result = await runChecked(
                `${PG_BIN}/psql`,
                ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", socketDir, "-p", String(port), "-U", "postgres", "-d", database, "-f", file],
                { as, env, cwd: sandbox.dir, timeoutMs: 60_000 },
            );
            return result.stdout + result.stderr;
        },
        async createDatabase(database) {
            await cluster.query(`CREATE DATABASE ${database}`);
        },
        async reloadWith(extra) {
            writeSettings({ ...settings, ...extra });
            await cluster.query("SELECT pg_reload_conf()");
        },
        async promote() {
            await pgCtl(["promote"]);
        },
        async startServer() {
            await pgCtl(["-l", logFile, "start"]);
            pid();
        },
        async stopServer() {
            await pgCtl(["-m", "fast", "stop"]);
            if (lastPid !== undefined && !isAlive(lastPid)) untrack(lastPid);
        },
        async restartServer() {
            await pgCtl(["-l", logFile, "-m", "fast", "restart"]);
            pid();
        },
        async stop() {
            if (stopped) return;
            stopped = true;
            try {
                if (pid() !== undefined) {
                    await run(`${PG_BIN}/pg_ctl`, ["-D", dataDir, "-w", "-t", "20", "-m", "fast", "stop"], {
                        as,
                        env,
                        cwd: sandbox.dir,
                        timeoutMs: 30_000,
                    });
                }
            } finally {
                // pg_ctl signals the postmaster PID; if it is somehow still there, end it by PID.
                const still = pid() ?? lastPid;
                if (still !== undefined) {
                    if (isAlive(still)) await stopPid(still, "SIGQUIT", 5000);
                    untrack(still);
                }
                if (ownsSandbox) sandbox.remove();
            }
        },
    };

    const settings: Record<string, string | number> = {
        listen_addresses: "'127.0.0.1'",
        port,
        unix_socket_directories: `'${socketDir}'`,
        max_connections: options.maxConnections ?? 100,
        superuser_reserved_connections: options.superuserReservedConnections ?? 3,
        password_encryption: "'scram-sha-256'",
        // A throwaway cluster: durability across power loss is not under test, speed is.
        fsync: "off",
        full_page_writes: "off",
        shared_buffers: "'32MB'",
        log_line_prefix: "'%m [%p] %q%u@%d '",
        // A standby's walreceiver reports this as its application_name (synchronous_standby_names).
        cluster_name: `'${name}'`,
        ...options.settings,
    };
    const writeSettings = (values: Record<string, string | number>) =>
        writeOwned(
            `${dataDir}/${SETTINGS_FILE}`,
            "# receiver-tier harness, rewritten at every start\n" +
                Object.entries(values)
                    .map(([k, v]) => `${k} = ${v}`)
                    .join("\n") +
                "\n",
            as,
        );

    try {
        if (primary !== undefined) {
            options.progress?.(`pg_basebackup: standby of 127.0.0.1:${primary.port} in ${dataDir}`);
            fs.rmSync(dataDir, { recursive: true, force: true });
            await runChecked(
                `${PG_BIN}/pg_basebackup`,
                [
                    "-D",
                    dataDir,
                    "-h",
                    primary.socketDir,
                    "-p",
                    String(primary.port),
                    "-U",
                    "postgres",
                    "-R",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                    "--no-sync",
                ],
                { as, env, cwd: sandbox.dir, timeoutMs: 120_000 },
            );
        } else if (initialized) {
            options.progress?.(`initdb: new PostgreSQL 15 cluster in ${dataDir}`);
            const pwFile = sandbox.write("pgpass.init", superuserPassword + "\n");
            await runChecked(
                `${PG_BIN}/initdb`,
                [
                    "-D",
                    dataDir,
                    "-U",
                    "postgres",
                    `--pwfile=${pwFile}`,
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--no-sync",
                ],
                { as, env, cwd: sandbox.dir, timeoutMs: 120_000 },
            );
            fs.rmSync(pwFile);
            fs.appendFileSync(`${dataDir}/postgresql.conf`, `\ninclude = '${SETTINGS_FILE}'\n`);
        } else {
            options.progress?.(`PostgreSQL: reusing the cluster in ${dataDir}`);
        }
        writeSettings(settings);
        // The harness's own superuser: unix socket (dir is 0700) or password over TCP. Tier roles: never trust.
        writeOwned(
            `${dataDir}/pg_hba.conf`,
            [
                "# receiver-tier harness",
                "local all postgres trust",
                "local replication postgres trust",
                "host  all postgres 127.0.0.1/32 scram-sha-256",
                `host  all all      127.0.0.1/32 ${method}`,
                "",
            ].join("\n"),
            as,
        );
        await cluster.startServer();
        if (pid() === undefined) {
            throw new Error("postmaster not running after pg_ctl start");
        }
        // A kept cluster still has the password of its first run, which nobody knows any more.
        if (!initialized && primary === undefined) await cluster.query(`ALTER ROLE postgres PASSWORD '${superuserPassword}'`);
        return cluster;
    } catch (err) {
        const log = tail(logFile);
        await cluster.stop().catch(() => undefined);
        throw new Error(`PostgreSQL did not start: ${err instanceof Error ? err.message : String(err)}\n--- postgres.log ---\n${log}`);
    }
}

function writeOwned(file: string, content: string, account: UnixAccount): void {
    fs.writeFileSync(file, content, { mode: 0o600 });
    fs.chownSync(file, account.uid, account.gid);
}
