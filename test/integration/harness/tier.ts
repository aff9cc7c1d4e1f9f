import { Client, ClientConfig } from "pg";
import { loginPassword, receiverLogins, statsLogins } from "../../../components/config/logins";
import { TierConfig, TierSecrets } from "../../../components/config/schema";
import { renderReceiverSecretsEnv } from "../../../components/render/receiverEnv";
import { connectPg } from "./clients";
import { GunicornProcess, parseEnvFile, startGunicorn } from "./gunicorn";
import { PgbouncerProcess, startPgbouncer } from "./pgbouncer";
import { PostgresCluster, startPostgres } from "./postgres";
import { isAlive, Sandbox } from "./processes";
import { renderTierFiles, TEST_SECRETS, TierFiles } from "./stack";

export interface TierOptions {
    /** Validated config (loadTierConfig). */
    readonly cfg: TierConfig;
    readonly secrets?: TierSecrets;
    /** Stack name written into the rendered headers (default "local"). */
    readonly stack?: string;
    /** Also start Gunicorn with the reference receiver (default false). */
    readonly gunicorn?: boolean;
    /** Extra environment for the receiver app beside receiver.env and the secrets. */
    readonly appEnv?: Readonly<Record<string, string>>;
    /** Extra postgresql.conf settings (e.g. ssl). */
    readonly postgresSettings?: Readonly<Record<string, string | number>>;
    /** Files pgbouncer.ini names by host path (TLS certificates and keys), by content. */
    readonly pgbouncerFiles?: Readonly<Record<string, string>>;
    /** Change rendered files before use (only for tests that prove a check can fail). */
    readonly tamper?: (files: TierFiles) => TierFiles;
}

export interface Tier {
    readonly cfg: TierConfig;
    readonly secrets: TierSecrets;
    /** The files as rendered (before the harness rewrote paths and ports). */
    readonly files: TierFiles;
    readonly sandbox: Sandbox;
    readonly postgres: PostgresCluster;
    readonly pgbouncer: PgbouncerProcess;
    readonly gunicorn: GunicornProcess | undefined;
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
    const sandbox = new Sandbox();
    let postgres: PostgresCluster | undefined;
    let pgbouncer: PgbouncerProcess | undefined;
    let gunicorn: GunicornProcess | undefined;
    let stopped = false;

    const stop = async () => {
        if (stopped) return;
        stopped = true;
        const errors: unknown[] = [];
        const pids = [gunicorn?.pid, ...(gunicorn?.workerPids() ?? []), pgbouncer?.pid, postgres?.pid()].filter(
            (p): p is number => p !== undefined,
        );
        for (const step of [() => gunicorn?.stop(), () => pgbouncer?.stop(), () => postgres?.stop()]) {
            try {
                await step();
            } catch (err) {
                errors.push(err);
            }
        }
        const survivors = pids.filter(isAlive);
        sandbox.remove();
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
        });
        await postgres.createDatabase(cfg.postgres.database);
        const sqlFile = sandbox.write("database.sql", files["database.sql"], 0o600);
        // Twice: the rendered SQL must be safe to re-run on every deploy.
        await postgres.psqlFile(cfg.postgres.database, sqlFile);
        await postgres.psqlFile(cfg.postgres.database, sqlFile);
        pgbouncer = await startPgbouncer({
            ini: files["pgbouncer.ini"],
            userlist: files["userlist.txt"],
            serverHost: postgres.host,
            serverPort: postgres.port,
            sandbox,
            files: options.pgbouncerFiles,
        });
        if (options.gunicorn) {
            gunicorn = await startGunicorn({
                conf: files["gunicorn.conf.py"],
                receiverEnv: files["receiver.env"],
                // secrets.env as the stack renders it: the active logins' passwords.
                secretEnv: { ...parseEnvFile(renderReceiverSecretsEnv(cfg, secrets)), ...options.appEnv },
                dbHost: pgbouncer.host,
                dbPort: pgbouncer.port,
                sandbox,
            });
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
        pgbouncer: bouncer,
        gunicorn,
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
