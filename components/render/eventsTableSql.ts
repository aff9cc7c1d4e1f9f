import { SchemaConfig } from "../schema/schema";
import { EVENTS_SEQUENCE_PRIVILEGES, EVENTS_TABLE_PRIVILEGES, eventsTable, schemaOwnerRole } from "../model/roles";
import { sqlIdent } from "./sql";
import { legacyLoginLive } from "../model/cutover";

/**
 * The receivers' schema and events table, owned by the NOLOGIN owner role, and the group role's only
 * privileges on them; idempotent. database.sql and the Pulumi program (EventsTable) run the same statements.
 * body_sha256 lets the app tell a repeated delivery (same digest) from a reused delivery id (409).
 */
export function renderEventsTableSql(cfg: Pick<SchemaConfig, "receiverRole" | "cutover">): string[] {
    const owner = sqlIdent(schemaOwnerRole(cfg));
    const group = sqlIdent(cfg.receiverRole.name);
    const t = eventsTable(cfg);
    const schema = sqlIdent(t.schema);
    const table = `${schema}.${sqlIdent(t.table)}`;
    const sequence = `${schema}.${sqlIdent(t.sequence)}`;
    return [
        // PostgreSQL lets a user create objects for, or give them to, only a role it is a member of, and take them
        // only from one (the hand-made ones belong to the group role): the admin need not be a superuser.
        `GRANT ${owner} TO CURRENT_USER;`,
        ...(legacyLoginLive(cfg) ? [`GRANT ${group} TO CURRENT_USER;`] : []),
        `CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${owner};`,
        `ALTER SCHEMA ${schema} OWNER TO ${owner};`,
        `REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC, ${group};`,
        `GRANT USAGE ON SCHEMA ${schema} TO ${group};`,
        ...legacySchemaCreate(cfg, schema, group),
        `CREATE TABLE IF NOT EXISTS ${table} (id bigserial PRIMARY KEY, source text NOT NULL, delivery_id text NOT NULL, payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now(), body_sha256 text NOT NULL, UNIQUE (source, delivery_id));`,
        "-- Tables the app created before the owner role existed: no digest (answered as duplicates), owner moved.",
        `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS body_sha256 text;`,
        `ALTER TABLE ${table} OWNER TO ${owner};`,
        `REVOKE ALL ON TABLE ${table} FROM PUBLIC, ${group};`,
        `GRANT ${EVENTS_TABLE_PRIVILEGES.join(", ")} ON TABLE ${table} TO ${group};`,
        `REVOKE ALL ON SEQUENCE ${sequence} FROM PUBLIC, ${group};`,
        `GRANT ${EVENTS_SEQUENCE_PRIVILEGES.join(", ")} ON SEQUENCE ${sequence} TO ${group};`,
    ];
}

/**
 * While the hand-made receivers run (the cutover), they log in as the group role and run `CREATE TABLE IF NOT
 * EXISTS` on each new worker, which PostgreSQL refuses without CREATE on the schema even when the table exists.
 */
function legacySchemaCreate(cfg: Pick<SchemaConfig, "cutover">, schema: string, group: string): string[] {
    if (!legacyLoginLive(cfg)) return [];
    return [
        "-- Cutover: the hand-made receivers' CREATE TABLE IF NOT EXISTS needs CREATE on the schema; the last step revokes it.",
        `GRANT CREATE ON SCHEMA ${schema} TO ${group};`,
    ];
}
