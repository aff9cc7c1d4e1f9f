import { Client } from "pg";
import { TierConfig } from "../components/schema/schema";
import { clientConfig, PostgresConnection } from "../components/postgres/databaseSetting";
import { tierRoles } from "../components/model/roles";
import { Check, fail, pass, reason } from "./result";

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
    /** Which of the tier's roles exist already. */
    readonly existingRoles: readonly string[];
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
    const existing = (await client.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname = ANY($1)", [roles])).rows;
    return { ...row, serverVersionNum: Number(row.server_version_num), existingRoles: existing.map((r) => r.rolname) };
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

/** Roles that exist already must be adopted, and adopted ones must exist. */
export function adoptionChecks(cfg: TierConfig, facts: AdminFacts): Check[] {
    return tierRoles(cfg).map(({ name }) => {
        const exists = facts.existingRoles.includes(name);
        const adopted = cfg.adopt.roles[name] !== undefined;
        const key = `receiver-tier:adopt.roles.${name}`;
        if (exists && !adopted) return fail(`role ${name} already exists: adopt it (${key}: ${name}), or CREATE ROLE fails`);
        if (!exists && adopted) return fail(`${key} is set but role ${name} does not exist: remove it`);
        return pass(exists ? `role ${name} exists and is adopted` : `role ${name} does not exist yet: the stack creates it`);
    });
}

/** The database from where preflight runs, with the admin user, and whatever would fail there. */
export async function databaseChecks(cfg: TierConfig, conn: PostgresConnection): Promise<Check[]> {
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
            ...adoptionChecks(cfg, facts),
        ];
    } catch (err) {
        return [fail(`database ${conn.database}: ${reason(err)}`)];
    } finally {
        await client.end().catch(() => undefined);
    }
}
