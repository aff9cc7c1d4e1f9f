import { TierConfig, TierSecrets } from "../config/schema";
import { serverConnectionsPerHost } from "../config/rules";
import { sqlIdent, sqlLiteral } from "./sql";
import { roleSecret } from "./userlist";

/** Statement timeout of the monitor role: the monitor query must never hang itself. */
export const MONITOR_STATEMENT_TIMEOUT = "30s";
/** Connections the monitor role may hold: one check per PgBouncer host, plus `verify` and an operator. */
export function monitorConnectionLimit(cfg: TierConfig): number {
    return cfg.pgbouncer.hosts + 2;
}

/** Connections the receiver role may hold: every PgBouncer host at its max_db_connections. */
export function receiverConnectionLimit(cfg: TierConfig): number {
    return cfg.pgbouncer.hosts * serverConnectionsPerHost(cfg);
}

/**
 * database.sql: roles, timeouts and grants, for a superuser to run (idempotent, one transaction).
 * Role passwords are the same pre-hashed secrets that userlist.txt holds.
 */
export function renderDatabaseSql(cfg: TierConfig, secrets: TierSecrets, stack: string): string {
    const receiver = sqlIdent(cfg.receiverRole.name);
    const stats = sqlIdent(cfg.pgbouncer.statsUser);
    const monitor = sqlIdent(cfg.monitor.role);
    const db = sqlIdent(cfg.postgres.database);
    const createIfMissing = (role: string) =>
        `  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${sqlLiteral(role)}) THEN CREATE ROLE ${sqlIdent(role)}; END IF;`;
    return (
        [
            `-- database.sql for receiver-tier stack "${stack}". Rendered from stack config.`,
            `-- Run as a superuser, as often as needed: psql -v ON_ERROR_STOP=1 -d ${cfg.postgres.database} -f database.sql`,
            "-- Holds pre-hashed password secrets: keep it as private as userlist.txt.",
            "BEGIN;",
            "DO $$",
            "BEGIN",
            createIfMissing(cfg.receiverRole.name),
            createIfMissing(cfg.pgbouncer.statsUser),
            createIfMissing(cfg.monitor.role),
            "END",
            "$$;",
            `ALTER ROLE ${receiver} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT ${receiverConnectionLimit(cfg)} PASSWORD ${sqlLiteral(roleSecret(cfg, cfg.receiverRole.name, secrets.receiverPassword))};`,
            `ALTER ROLE ${receiver} SET statement_timeout = ${sqlLiteral(cfg.receiverRole.statementTimeout)};`,
            `ALTER ROLE ${receiver} SET idle_in_transaction_session_timeout = ${sqlLiteral(cfg.receiverRole.idleInTransactionSessionTimeout)};`,
            "-- The stats user only signs in to PgBouncer's console; the role reserves its name in PostgreSQL.",
            `ALTER ROLE ${stats} WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;`,
            `ALTER ROLE ${monitor} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT ${monitorConnectionLimit(cfg)} PASSWORD ${sqlLiteral(roleSecret(cfg, cfg.monitor.role, secrets.monitorPassword))};`,
            `ALTER ROLE ${monitor} SET statement_timeout = ${sqlLiteral(MONITOR_STATEMENT_TIMEOUT)};`,
            `GRANT pg_monitor TO ${monitor};`,
            `ALTER DATABASE ${db} SET statement_timeout = ${sqlLiteral(cfg.receiverRole.statementTimeout)};`,
            `GRANT CONNECT ON DATABASE ${db} TO ${receiver}, ${monitor};`,
            '-- The receiver\'s own schema (first on the default search_path "$user"); the app creates its tables there.',
            `CREATE SCHEMA IF NOT EXISTS ${receiver} AUTHORIZATION ${receiver};`,
            `ALTER SCHEMA ${receiver} OWNER TO ${receiver};`,
            "COMMIT;",
        ].join("\n") + "\n"
    );
}
