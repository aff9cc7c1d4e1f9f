import * as fs from "fs";
import * as path from "path";
import { Client, ClientConfig } from "pg";
import { loginPassword, receiverLogins, statsLogins } from "../components/model/logins";
import { TierConfig, TierSecrets } from "../components/schema/schema";
import { connectPg, WebhookSigning } from "./clients";
import { GunicornProcess, startGunicorn } from "./gunicorn";
import { NginxProcess, startNginx } from "./nginx";
import { PgbouncerProcess, startPgbouncer } from "./pgbouncer";
import { PostgresCluster, PostgresOptions, startPostgres } from "./postgres";
import { LOCK_FILE, lockStateDir } from "./lock";
import { isAlive } from "./pids";
import { waitFor } from "./wait";
import { Sandbox } from "./sandbox";
import { receiverSecretEnv, TEST_SECRETS, webhookSigning } from "./stack";
import { renderTierFiles, TierFiles } from "../components/render/tierFiles";

export interface TierOptions {
    /** Validated config (loadTierConfig). */
    readonly cfg: TierConfig;
    readonly secrets?: TierSecrets;
    /** Stack name written into the rendered headers (default "local"). */
    readonly stack?: string;
    /** Also start Gunicorn with the reference receiver, and the rendered nginx in front of it (default false). */
    readonly gunicorn?: boolean;
    /** Extra environment for the receiver app beside receiver.env and the secrets. */
    readonly appEnv?: Readonly<Record<string, string>>;
    /** Files pgbouncer.ini names by host path (TLS certificates and keys), by content. */
    readonly pgbouncerFiles?: Readonly<Record<string, string>>;
    /** Change rendered files before use (only for tests that prove a check can fail). */
    readonly tamper?: (files: TierFiles) => TierFiles;
    /** A persistent directory instead of a temp one, locked for this process while the tier runs. */
    readonly stateDir?: StateDir;
    /** Fixed ports on 127.0.0.1 (default: free ones). */
    readonly ports?: TierPorts;
    /** Extra postgresql.conf settings (e.g. fsync for a lasting cluster, ssl). */
    readonly postgresSettings?: Readonly<Record<string, string | number>>;
    /** Told what happens while the tier starts, one line per step. */
    readonly progress?: (line: string) => void;
    /** Also a streaming standby of the primary, synchronous: every COMMIT waits until it has the WAL (default false). */
    readonly standby?: boolean;
}

export interface StateDir {
    readonly dir: string;
    /**
     * True: a cluster found in the dir is reused and stop() keeps it (the webhooks survive a restart).
     * False: any cluster there is discarded at start and at stop.
     */
    readonly keepData: boolean;
}

export interface TierPorts {
    readonly postgres: number;
    readonly pgbouncer: number;
    /** Where the receiver is reached: nginx's port (Gunicorn behind it gets a free one). */
    readonly receiver: number;
}

/** The state dir entry holding the PostgreSQL cluster, the one part stop() keeps. */
export const DATA_DIR = "pgdata";

export interface Tier {
    readonly cfg: TierConfig;
    readonly secrets: TierSecrets;
    /** The files as rendered (before the harness rewrote paths and ports). */
    readonly files: TierFiles;
    readonly sandbox: Sandbox;
    readonly postgres: PostgresCluster;
    /** The synchronous standby (TierOptions.standby), application_name `standby`. */
    readonly standby: PostgresCluster | undefined;
    readonly pgbouncer: PgbouncerProcess;
    readonly gunicorn: GunicornProcess | undefined;
    /** The rendered nginx in front of Gunicorn (started with it): where senders and the ALB's checks go. */
    readonly proxy: NginxProcess | undefined;
    /** How senders sign webhooks for this tier (postWebhook). */
    readonly signing: WebhookSigning;
    /** A client of the receiver's PgBouncer alias as the receiver role (override password, options...). */
    receiver(config?: Partial<ClientConfig>): Promise<Client>;
    /** A client of PgBouncer's console (admin db "pgbouncer") as the stats user. */
    stats(config?: Partial<ClientConfig>): Promise<Client>;
    /** Stops Gunicorn, PgBouncer and PostgreSQL by PID and removes the sandbox. Idempotent. */
    stop(): Promise<void>;
}

/**
 * PostgreSQL (max_connections from config, pg_hba by auth_type) + database + the rendered
 * database.sql applied twice + PgBouncer with the rendered ini/userlist (+ Gunicorn).
 * Everything started is stopped again if a later step fails.
 */
export async function startTier(options: TierOptions): Promise<Tier> {
    const { cfg } = options;
    const secrets = options.secrets ?? TEST_SECRETS;
    const rendered = renderTierFiles(cfg, secrets, options.stack ?? "local");
    const files = options.tamper ? options.tamper(rendered) : rendered;
    const state = options.stateDir;
    // The lock comes first: two tiers on one cluster would corrupt it.
    const unlock = state ? lockStateDir(state.dir) : () => undefined;
    let sandbox: Sandbox;
    try {
        if (state && !state.keepData) fs.rmSync(path.join(state.dir, DATA_DIR), { recursive: true, force: true });
        sandbox = state ? Sandbox.at(state.dir, state.keepData ? [DATA_DIR, LOCK_FILE] : [LOCK_FILE]) : Sandbox.temp();
    } catch (err) {
        unlock();
        throw err;
    }
    const progress = options.progress ?? (() => undefined);
    let postgres: PostgresCluster | undefined;
    let standby: PostgresCluster | undefined;
    let pgbouncer: PgbouncerProcess | undefined;
    let gunicorn: GunicornProcess | undefined;
    let proxy: NginxProcess | undefined;
    let stopped = false;

    const stop = async () => {
        if (stopped) return;
        stopped = true;
        const errors: unknown[] = [];
        const pids = [
            proxy?.pid,
            ...(proxy?.workerPids() ?? []),
            gunicorn?.pid,
            ...(gunicorn?.workerPids() ?? []),
            pgbouncer?.pid,
            postgres?.pid(),
            standby?.pid(),
        ].filter((p): p is number => p !== undefined);
        for (const step of [
            () => proxy?.stop(),
            () => gunicorn?.stop(),
            () => pgbouncer?.stop(),
            () => standby?.stop(),
            () => postgres?.stop(),
        ]) {
            try {
                await step();
            } catch (err) {
                errors.push(err);
            }
        }
        const survivors = pids.filter(isAlive);
        sandbox.remove();
        unlock();
        if (survivors.length > 0) errors.push(new Error(`processes still running after stop: ${survivors.join(", ")}`));
        if (errors.length > 0) {
            throw new Error(`tier teardown: ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join("; ")}`);
        }
    };

    try {
        postgres = await startPostgres({
            sandbox,
            maxConnections: cfg.postgres.maxConnections,
            superuserReservedConnections: cfg.postgres.superuserReservedConnections,
            hostAuthMethod: cfg.pgbouncer.settings.auth_type,
            settings: options.postgresSettings,
            port: options.ports?.postgres,
            progress,
        });
        progress(`PostgreSQL 15 on ${postgres.host}:${postgres.port} (pid ${postgres.pid()})`);
        const existing = await postgres.query("SELECT 1 FROM pg_database WHERE datname = $1", "postgres", [cfg.postgres.database]);
        if (existing.length === 0) await postgres.createDatabase(cfg.postgres.database);
        progress(`database.sql: applying to ${cfg.postgres.database} (twice: it must be safe to re-run)`);
        const sqlFile = sandbox.write("database.sql", files["database.sql"], 0o600);
        await postgres.psqlFile(cfg.postgres.database, sqlFile);
        await postgres.psqlFile(cfg.postgres.database, sqlFile);
        if (options.standby) {
            standby = await startStandby(postgres, {
                sandbox,
                // A hot standby needs at least the primary's max_connections; PgBouncer logs in there after a switch.
                maxConnections: cfg.postgres.maxConnections,
                superuserReservedConnections: cfg.postgres.superuserReservedConnections,
                hostAuthMethod: cfg.pgbouncer.settings.auth_type,
                settings: options.postgresSettings,
                progress,
            });
            progress(`standby on ${standby.host}:${standby.port} (pid ${standby.pid()}), synchronous`);
        }
        progress("PgBouncer: starting with the rendered pgbouncer.ini and userlist.txt");
        pgbouncer = await startPgbouncer({
            ini: files["pgbouncer.ini"],
            userlist: files["userlist.txt"],
            serverHost: postgres.host,
            serverPort: postgres.port,
            sandbox,
            port: options.ports?.pgbouncer,
            files: options.pgbouncerFiles,
        });
        progress(`PgBouncer on ${pgbouncer.host}:${pgbouncer.port} (pid ${pgbouncer.pid})`);
        if (options.gunicorn) {
            progress("Gunicorn: starting the reference receiver with the rendered gunicorn.conf.py and receiver.env");
            gunicorn = await startGunicorn({
                conf: files["gunicorn.conf.py"],
                receiverEnv: files["receiver.env"],
                // secrets.env as the stack renders it: the active logins' passwords, the signing secret.
                secretEnv: { ...options.appEnv, ...receiverSecretEnv(cfg, secrets) },
                dbHost: pgbouncer.host,
                dbPort: pgbouncer.port,
                sandbox,
            });
            progress(`Gunicorn on ${gunicorn.host}:${gunicorn.port} (pid ${gunicorn.pid}, workers ${gunicorn.workerPids().join(" ")})`);
            progress("nginx: starting the rendered nginx.conf in front of Gunicorn (nginx -t first)");
            proxy = await startNginx({ conf: files["nginx.conf"], upstreamPort: gunicorn.port, sandbox, port: options.ports?.receiver });
            progress(`nginx on ${proxy.host}:${proxy.port} (pid ${proxy.pid}), in front of Gunicorn`);
        }
    } catch (err) {
        await stop().catch(() => undefined);
        throw err;
    }

    const bouncer = pgbouncer;
    return {
        cfg,
        secrets,
        files,
        sandbox,
        postgres,
        standby,
        pgbouncer: bouncer,
        gunicorn,
        proxy,
        signing: webhookSigning(cfg, secrets),
        receiver: (config = {}) =>
            connectPg(bouncer, {
                user: receiverLogins(cfg).active.name,
                password: loginPassword(secrets, receiverLogins(cfg).active),
                database: cfg.pgbouncer.databaseAlias,
                ...config,
            }),
        stats: (config = {}) =>
            connectPg(bouncer, {
                user: statsLogins(cfg).active.name,
                password: loginPassword(secrets, statsLogins(cfg).active),
                database: "pgbouncer",
                ...config,
            }),
        stop,
    };
}

const STANDBY_NAME = "standby";
const SYNC_WAIT_MS = 30_000;

/** A streaming standby of `primary`, then the primary waits for it at every COMMIT. */
async function startStandby(primary: PostgresCluster, options: PostgresOptions): Promise<PostgresCluster> {
    const standby = await startPostgres({ ...options, standbyOf: primary, name: STANDBY_NAME });
    try {
        await primary.reloadWith({ synchronous_standby_names: `'FIRST 1 (${STANDBY_NAME})'`, synchronous_commit: "on" });
        await waitFor(`${STANDBY_NAME} streaming synchronously`, SYNC_WAIT_MS, async () => {
            const rows = await primary.query(
                "SELECT 1 FROM pg_stat_replication WHERE application_name = $1 AND sync_state = 'sync'",
                "postgres",
                [STANDBY_NAME],
            );
            return rows.length > 0 ? true : undefined;
        });
        return standby;
    } catch (err) {
        await standby.stop().catch(() => undefined);
        throw err;
    }
}
