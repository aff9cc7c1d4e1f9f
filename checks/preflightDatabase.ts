import { Client } from "pg";
import { TierConfig } from "../components/schema/schema";
import { clientConfig, PostgresConnection } from "../components/postgres/databaseSetting";
import { RESOURCE_NAMES, RESOURCE_TYPES } from "../components/model/resources";
import { RoleSpec, tierRoles } from "../components/model/roles";
import { durationToMs } from "../components/schema/duration";
import { Check, fail, pass, reason } from "./result";
import { StackState } from "./stackState";
import { durabilityCheck, needsServerState, readReplicationState } from "./durability";

/** What the admin user may do, as PostgreSQL reports it for the session's own role. */
export interface AdminFacts {
    readonly serverVersionNum: number;
    readonly superuser: boolean;
    readonly createrole: boolean;
    /** Holds pg_monitor WITH ADMIN OPTION (PostgreSQL 16+ needs it to grant pg_monitor). */
    readonly monitorAdmin: boolean;
    /** Owns the database (or is a member of its owner): ALTER DATABASE ... SET and GRANT CONNECT. */
    readonly ownsDatabase: boolean;
    /** CREATE on the database: the receiver schema. */
    readonly createInDatabase: boolean;
    /** The tier's roles that exist already, with the attributes the stack sets. */
    readonly existingRoles: readonly ExistingRole[];
}

/** A role as pg_roles has it: what adopting it would change. */
export interface ExistingRole {
    readonly name: string;
    readonly login: boolean;
    readonly connectionLimit: number;
    /** Its `ALTER ROLE ... SET` settings, e.g. `statement_timeout=5s`. */
    readonly settings: readonly string[];
    readonly memberOf: readonly string[];
}

export async function adminFacts(client: Client, cfg: TierConfig): Promise<AdminFacts> {
    const roles = tierRoles(cfg).map((role) => role.name);
    const row = (
        await client.query<Omit<AdminFacts, "existingRoles" | "serverVersionNum"> & { server_version_num: string }>(
            `SELECT current_setting('server_version_num') AS server_version_num,
                    r.rolsuper AS superuser,
                    r.rolcreaterole AS createrole,
                    pg_has_role(current_user, 'pg_monitor', 'MEMBER WITH ADMIN OPTION') AS "monitorAdmin",
                    pg_has_role(current_user, d.datdba, 'MEMBER') AS "ownsDatabase",
                    has_database_privilege(current_user, d.oid, 'CREATE') AS "createInDatabase"
               FROM pg_roles r, pg_database d
              WHERE r.rolname = current_user AND d.datname = $1`,
            [cfg.postgres.database],
        )
    ).rows[0];
    if (!row) throw new Error(`database ${cfg.postgres.database} (receiver-tier:postgres.database) not found`);
    const existing = await client.query<ExistingRole>(
        `SELECT r.rolname AS name, r.rolcanlogin AS login, r.rolconnlimit AS "connectionLimit",
                coalesce(r.rolconfig, '{}')::text[] AS settings,
                ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1)::text[] AS "memberOf"
           FROM pg_roles r WHERE r.rolname = ANY($1)`,
        [roles],
    );
    return { ...row, serverVersionNum: Number(row.server_version_num), existingRoles: existing.rows };
}

/** Whether the admin user may do everything the stack does, one line per privilege. */
export function privilegeChecks(cfg: TierConfig, user: string, facts: AdminFacts): Check[] {
    const who = `admin user ${user} (receiver-tier:postgres.adminUser)`;
    const checks: Check[] = [];
    checks.push(
        facts.superuser || facts.createrole
            ? pass(`${who} may create roles (${facts.superuser ? "superuser" : "CREATEROLE"})`)
            : fail(`${who} lacks CREATEROLE: it cannot create the tier's roles`),
    );
    // Up to PostgreSQL 15 CREATEROLE may grant any non-superuser role; from 16 on only with ADMIN OPTION.
    if (facts.serverVersionNum >= 160000) {
        checks.push(
            facts.superuser || facts.monitorAdmin
                ? pass(`${who} may grant pg_monitor to ${cfg.monitor.role}`)
                : fail(`${who} lacks ADMIN OPTION on pg_monitor, which PostgreSQL 16+ needs to grant it to ${cfg.monitor.role}`),
        );
    }
    checks.push(
        facts.superuser || facts.ownsDatabase
            ? pass(`${who} may ALTER DATABASE ${cfg.postgres.database} SET statement_timeout and grant CONNECT`)
            : fail(
                  `${who} neither owns database ${cfg.postgres.database} nor is superuser: ALTER DATABASE ... SET statement_timeout fails`,
              ),
    );
    checks.push(
        facts.superuser || facts.createInDatabase
            ? pass(`${who} may create the schema ${cfg.receiverRole.name}`)
            : fail(`${who} lacks CREATE on database ${cfg.postgres.database}: the receiver schema cannot be created`),
    );
    return checks;
}

/** What `pulumi up` changes on an adopted role: each attribute where the role differs from its spec. */
export function roleChanges(spec: RoleSpec, role: ExistingRole): string[] {
    const changes: string[] = [];
    if (spec.login !== role.login) changes.push(spec.login ? "NOLOGIN -> LOGIN" : "LOGIN -> NOLOGIN");
    const limit = spec.connectionLimit ?? -1;
    if (limit !== role.connectionLimit) changes.push(`CONNECTION LIMIT ${role.connectionLimit} -> ${limit}`);
    const setting = (name: string) => role.settings.find((s) => s.startsWith(`${name}=`))?.slice(name.length + 1);
    for (const [name, wanted] of [
        ["statement_timeout", spec.statementTimeout],
        ["idle_in_transaction_session_timeout", spec.idleInTransactionSessionTimeout],
        ["role", spec.assumeRole],
    ] as const) {
        const current = setting(name);
        const same =
            current === wanted || (current !== undefined && wanted !== undefined && name !== "role" && sameDuration(current, wanted));
        if (!same) changes.push(`${name} ${current ?? "(unset)"} -> ${wanted ?? "(unset)"}`);
    }
    const groups = [...spec.memberOf].sort();
    if (groups.join(",") !== [...role.memberOf].sort().join(","))
        changes.push(`member of [${role.memberOf.join(", ")}] -> [${groups.join(", ")}]`);
    return changes;
}

/** PostgreSQL reads a bare number as milliseconds. */
const sameDuration = (a: string, b: string) => toMs(a) === toMs(b);
const toMs = (value: string) => (/^\d+$/.test(value) ? Number(value) : durationToMs(value));

/**
 * Roles that exist already must be adopted, adopted ones must exist and are compared with what the
 * stack sets (what `up` will change); roles in the stack's state are its own: a later deploy updates them.
 */
export function adoptionChecks(cfg: TierConfig, stack: string, state: StackState, facts: AdminFacts): Check[] {
    const settings = RESOURCE_NAMES.postgresSettings(stack);
    return tierRoles(cfg).map((spec) => {
        const name = spec.name;
        const role = facts.existingRoles.find((r) => r.name === name);
        const key = `receiver-tier:adopt.roles.${name}`;
        if (state.has(RESOURCE_TYPES.role, RESOURCE_NAMES.role(settings, name))) {
            return role !== undefined
                ? pass(`role ${name} is the stack's own (in its state)`)
                : fail(`role ${name} is in the stack's state but not in the database: run \`pulumi refresh\``);
        }
        const adopted = cfg.adopt.roles[name] !== undefined;
        if (role !== undefined && !adopted) return fail(`role ${name} already exists: adopt it (${key}: ${name}), or CREATE ROLE fails`);
        if (role === undefined) {
            return adopted
                ? fail(`${key} is set but role ${name} does not exist: remove it`)
                : pass(`role ${name} does not exist yet: the stack creates it`);
        }
        const changes = roleChanges(spec, role);
        if (role.login && !spec.login) {
            return fail(
                `adopting role ${name} turns its LOGIN off: whoever logs in as ${name} today is locked out (${changes.join("; ")}); the receiver-tier:cutover block keeps it a login until they moved (README "First deploy into an existing environment")`,
            );
        }
        return pass(
            `role ${name} exists and is adopted; pulumi up ${changes.length === 0 ? "changes nothing on it" : `will change: ${changes.join("; ")}`}`,
        );
    });
}

/** The durability verdict as preflight's one-sentence finding. */
function durabilityLine(cfg: TierConfig, state: Parameters<typeof durabilityCheck>[1]): Check {
    const verdict = durabilityCheck(cfg.postgres.highAvailability, state);
    return { name: `${verdict.name}: ${verdict.detail}`, passed: verdict.passed };
}

/** The database from where preflight runs, with the admin user, and whatever would fail there. */
export async function databaseChecks(cfg: TierConfig, stack: string, state: StackState, conn: PostgresConnection): Promise<Check[]> {
    const client = new Client(clientConfig(conn));
    client.on("error", () => undefined);
    try {
        await client.connect();
    } catch (err) {
        return [
            fail(
                `database ${conn.host}:${conn.port}/${conn.database} as ${conn.user} (sslmode ${conn.sslmode}): ${reason(err)}; run preflight and pulumi up from a machine inside the VPC (README "First deploy into an existing environment")`,
            ),
        ];
    }
    try {
        const facts = await adminFacts(client, cfg);
        return [
            pass(`database ${conn.host}:${conn.port}/${conn.database} reachable as ${conn.user} (sslmode ${conn.sslmode})`),
            ...privilegeChecks(cfg, conn.user, facts),
            ...adoptionChecks(cfg, stack, state, facts),
            durabilityLine(cfg, needsServerState(cfg.postgres.highAvailability) ? await readReplicationState(client) : undefined),
        ];
    } catch (err) {
        return [fail(`database ${conn.database}: ${reason(err)}`)];
    } finally {
        await client.end().catch(() => undefined);
    }
}
