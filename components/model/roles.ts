import { durationToMs } from "../schema/duration";
import { consoleLoginPairs, loginPassword, receiverLogins } from "./logins";
import { pgbouncerHostsDuringRoll, serverConnectionsPerHost } from "./capacity";
import { SchemaConfig, TierSecrets } from "../schema/schema";
import { roleSecret } from "./authSecrets";
import { legacyLoginLive } from "./cutover";

/** Statement timeout of the monitor role: the monitor query must never hang itself. */
export const MONITOR_STATEMENT_TIMEOUT = "30s";

/** One PostgreSQL role of the tier, as both database.sql and the Pulumi program create it. */
export interface RoleSpec {
    readonly name: string;
    readonly login: boolean;
    /** Its pre-hashed password secret (the one userlist.txt holds), if it has one. */
    readonly password?: (secrets: TierSecrets) => string;
    readonly connectionLimit?: number;
    readonly statementTimeout?: string;
    readonly idleInTransactionSessionTimeout?: string;
    /** Roles it is a member of. */
    readonly memberOf: readonly string[];
    /** `ALTER ROLE ... SET role`: the role a session switches to at login, so objects belong to the group. */
    readonly assumeRole?: string;
    /** Why it exists, for reviewers of database.sql. */
    readonly purpose: string;
}

/**
 * Connections each receiver login may hold: every PgBouncer host at its max_db_connections, with one
 * extra host while a roll overlaps old and new hosts. PgBouncer's cap is per database, shared by both logins.
 */
export function receiverConnectionLimit(cfg: SchemaConfig): number {
    return pgbouncerHostsDuringRoll(cfg) * serverConnectionsPerHost(cfg);
}

/** Connections the monitor role may hold: one check per PgBouncer host (one extra during a roll), plus `verify` and an operator. */
export function monitorConnectionLimit(cfg: SchemaConfig): number {
    return pgbouncerHostsDuringRoll(cfg) + 2;
}

/**
 * The NOLOGIN role owning the receivers' schema and its tables. Nobody logs in as it or acts as it at
 * runtime: the logins act as the group role, which may only INSERT and SELECT (least privilege: no
 * DELETE, TRUNCATE, DROP or ALTER for a login whose password sits on every receiver).
 */
export function schemaOwnerRole(cfg: Pick<SchemaConfig, "receiverRole">): string {
    return `${cfg.receiverRole.name}_owner`;
}

/** The receivers' events table and its id sequence, in the schema named after the group role. */
export function eventsTable(cfg: Pick<SchemaConfig, "receiverRole">) {
    const schema = cfg.receiverRole.name;
    return { schema, table: "webhook_events", sequence: "webhook_events_id_seq" } as const;
}

/** Privileges of the receivers' group role on its events table: store a webhook, read it back for a duplicate. */
export const EVENTS_TABLE_PRIVILEGES = ["INSERT", "SELECT"] as const;
/** On the id sequence: what INSERT needs for the bigserial default (nextval). */
export const EVENTS_SEQUENCE_PRIVILEGES = ["USAGE"] as const;

/** Every role the tier needs, in creation order (groups before their members). */
export function tierRoles(cfg: SchemaConfig): RoleSpec[] {
    const receivers = receiverLogins(cfg);
    const accepted = new Set(receivers.accepted.map((login) => login.name));
    return [
        {
            name: schemaOwnerRole(cfg),
            login: false,
            memberOf: [],
            purpose: "owns the receiver schema and its tables; no login is a member",
        },
        receiverGroupRole(cfg, receivers.base),
        ...receivers.both.map((login): RoleSpec => ({
            name: login.name,
            login: accepted.has(login.name),
            password: (secrets) => roleSecret(cfg, login.name, loginPassword(secrets, login)),
            connectionLimit: receiverConnectionLimit(cfg),
            statementTimeout: cfg.receiverRole.statementTimeout,
            idleInTransactionSessionTimeout: cfg.receiverRole.idleInTransactionSessionTimeout,
            memberOf: [receivers.base],
            assumeRole: receivers.base,
            purpose: `receiver login ${login.slot} (${login.name === receivers.active.name ? "active" : "standby"})`,
        })),
        ...consoleLoginPairs(cfg)
            .flatMap((pair) => pair.both)
            .map((login): RoleSpec => ({
                name: login.name,
                login: false,
                memberOf: [],
                purpose: "signs in to PgBouncer's console only; the role reserves the name in PostgreSQL",
            })),
        {
            name: cfg.monitor.role,
            login: true,
            password: (secrets) => roleSecret(cfg, cfg.monitor.role, secrets.monitorPassword),
            connectionLimit: monitorConnectionLimit(cfg),
            statementTimeout: MONITOR_STATEMENT_TIMEOUT,
            memberOf: ["pg_monitor"],
            purpose: "the long-running-query check: sees every session through pg_monitor",
        },
    ];
}

/**
 * The receivers' group role. During the cutover it is the hand-made canary's login as well: it keeps LOGIN and
 * the runbook's statement timeout, and no password is set (it keeps its own), so whoever logs in as it today
 * still does; the procedure's last step removes the cutover block, which makes it NOLOGIN.
 */
function receiverGroupRole(cfg: SchemaConfig, name: string): RoleSpec {
    const privileges = "the receivers' privileges (INSERT and SELECT on the events table); the two logins act as it";
    if (!legacyLoginLive(cfg)) return { name, login: false, memberOf: [], purpose: privileges };
    return {
        name,
        login: true,
        statementTimeout: cfg.receiverRole.statementTimeout,
        memberOf: [],
        purpose: `${privileges}; until the cutover's last step also the hand-made login, its password left as it is`,
    };
}

/** The roles that need CONNECT on the database (members of a group inherit it); PUBLIC has none. */
export function rolesWithConnect(cfg: SchemaConfig): string[] {
    return [cfg.receiverRole.name, cfg.monitor.role];
}

/** Milliseconds as @pulumi/postgresql takes timeouts. */
export function timeoutMs(duration: string | undefined): number | undefined {
    return duration === undefined ? undefined : durationToMs(duration);
}

/**
 * A role's inputs as @pulumi/postgresql's Role takes them, the password as the caller holds it: the
 * program's secret, or nothing where only the settings are judged (the offline policy run).
 */
export function roleInputs<Password>(spec: RoleSpec, password: Password) {
    return {
        name: spec.name,
        login: spec.login,
        password,
        connectionLimit: spec.connectionLimit,
        statementTimeout: timeoutMs(spec.statementTimeout),
        idleInTransactionSessionTimeout: timeoutMs(spec.idleInTransactionSessionTimeout),
        roles: [...spec.memberOf],
        assumeRole: spec.assumeRole,
    };
}

/** The database-wide parameter the tier sets (`ALTER DATABASE ... SET statement_timeout`). */
export function databaseTimeoutSetting(cfg: Pick<SchemaConfig, "postgres" | "receiverRole">) {
    return { database: cfg.postgres.database, name: "statement_timeout", value: cfg.receiverRole.statementTimeout };
}
