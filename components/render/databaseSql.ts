import { TierConfig, TierSecrets } from "../schema/schema";
import { RoleSpec, rolesWithConnect, tierRoles } from "../model/roles";
import { sqlIdent, sqlLiteral } from "./sql";
import { renderEventsTableSql } from "./eventsTableSql";

function roleStatements(role: RoleSpec, secrets: TierSecrets): string[] {
    const name = sqlIdent(role.name);
    const attributes = [
        role.login ? "LOGIN" : "NOLOGIN",
        "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        ...(role.connectionLimit === undefined ? [] : [`CONNECTION LIMIT ${role.connectionLimit}`]),
        ...(role.password ? [`PASSWORD ${sqlLiteral(role.password(secrets))}`] : []),
    ];
    const settings: [string, string | undefined][] = [
        ["statement_timeout", role.statementTimeout],
        ["idle_in_transaction_session_timeout", role.idleInTransactionSessionTimeout],
        ["role", role.assumeRole],
    ];
    return [
        `-- ${role.name}: ${role.purpose}`,
        `ALTER ROLE ${name} WITH ${attributes.join(" ")};`,
        ...settings
            .filter(([, value]) => value !== undefined)
            .map(([key, value]) => `ALTER ROLE ${name} SET ${key} = ${sqlLiteral(value as string)};`),
        ...role.memberOf.map((group) => `GRANT ${sqlIdent(group)} TO ${name};`),
    ];
}

/**
 * database.sql: roles, timeouts and grants, for a superuser to run (idempotent, one transaction).
 * Role passwords are the same pre-hashed secrets that userlist.txt holds.
 */
export function renderDatabaseSql(cfg: TierConfig, secrets: TierSecrets, stack: string): string {
    const roles = tierRoles(cfg);
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
            ...roles.map((role) => createIfMissing(role.name)),
            "END",
            "$$;",
            ...roles.flatMap((role) => roleStatements(role, secrets)),
            `ALTER DATABASE ${db} SET statement_timeout = ${sqlLiteral(cfg.receiverRole.statementTimeout)};`,
            "-- Only the tier's roles connect, and nobody creates temporary tables (PostgreSQL grants both to PUBLIC).",
            `REVOKE CONNECT, TEMPORARY ON DATABASE ${db} FROM PUBLIC;`,
            `GRANT CONNECT ON DATABASE ${db} TO ${rolesWithConnect(cfg).map(sqlIdent).join(", ")};`,
            '-- The receivers\' own schema, first on the default search_path "$user" once a login has switched to the group role.',
            ...renderEventsTableSql(cfg),
            "COMMIT;",
        ].join("\n") + "\n"
    );
}
