import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresConnection } from "../../components/postgres/databaseSetting";
import { databaseChecks } from "../../checks/preflightDatabase";
import { Check } from "../../checks/result";
import { NO_STATE } from "../../checks/stackState";
import { exportOf, readExport } from "../unit/checks/stackExport";
import { canaryStepConfig, freePort, PostgresCluster, startPostgres } from "../../harness";

// Preflight's database half against the real PostgreSQL 15: an admin user lacking each privilege
// the stack uses fails exactly that line, and PostgreSQL itself refuses the same statement.

const PASSWORD = "preflight-Pw-1";
// The canary once its cutover is over (the stack's own group role); the shipped step 1 is tested below too.
const cfg = canaryStepConfig(3, ["postgres.sslmode", "require"]);
const DB = cfg.postgres.database;

describe("preflight database checks", () => {
    let pg: PostgresCluster;
    const as = (user: string): PostgresConnection => ({
        host: pg.host,
        port: pg.port,
        user,
        password: PASSWORD,
        database: DB,
        sslmode: "disable",
    });
    const failures = (checks: Check[]) => checks.filter((c) => !c.passed).map((c) => c.name);
    /** Runs one statement as `user`, returning PostgreSQL's error message or "ok". */
    const attempt = async (user: string, sql: string) => {
        const client = new Client({ ...as(user), ssl: false });
        await client.connect();
        try {
            await client.query(sql);
            return "ok";
        } catch (err) {
            return (err as Error).message;
        } finally {
            await client.end();
        }
    };

    beforeAll(async () => {
        pg = await startPostgres();
        for (const sql of [
            `CREATE ROLE pf_owner LOGIN CREATEROLE PASSWORD '${PASSWORD}'`,
            `CREATE DATABASE ${DB} OWNER pf_owner`,
            // Owns the database through membership, but CREATEROLE is never inherited.
            `CREATE ROLE pf_no_createrole LOGIN PASSWORD '${PASSWORD}' IN ROLE pf_owner`,
            `CREATE ROLE pf_not_owner LOGIN CREATEROLE PASSWORD '${PASSWORD}'`,
            `GRANT CREATE ON DATABASE ${DB} TO pf_not_owner`,
            `CREATE ROLE pf_no_create LOGIN CREATEROLE PASSWORD '${PASSWORD}'`,
        ]) {
            await pg.query(sql);
        }
    });
    afterAll(async () => {
        await pg?.stop();
    });

    it("passes an owner of the database with CREATEROLE, and PostgreSQL lets it do what the stack does", async () => {
        const checks = await databaseChecks(cfg, "canary", NO_STATE, as("pf_owner"));
        expect(failures(checks)).toEqual([]);
        expect(checks[0]?.name).toMatch(/^database 127\.0\.0\.1:\d+\/deltacrown reachable as pf_owner/);
        expect(await attempt("pf_owner", "CREATE ROLE pf_probe_1; GRANT pg_monitor TO pf_probe_1")).toBe("ok");
        expect(await attempt("pf_owner", `ALTER DATABASE ${DB} SET statement_timeout = '5s'`)).toBe("ok");
        await pg.query(`ALTER DATABASE ${DB} RESET statement_timeout`);
        await pg.query("DROP ROLE pf_probe_1");
    });

    it("fails the CREATEROLE line for a user without it, as CREATE ROLE fails", async () => {
        expect(failures(await databaseChecks(cfg, "canary", NO_STATE, as("pf_no_createrole")))).toEqual([
            "admin user pf_no_createrole (receiver-tier:postgres.adminUser) lacks CREATEROLE: it cannot create the tier's roles",
        ]);
        expect(await attempt("pf_no_createrole", "CREATE ROLE pf_probe_2")).toMatch(/permission denied to create role/);
    });

    it("fails the ALTER DATABASE line for a user that neither owns the database nor is superuser", async () => {
        expect(failures(await databaseChecks(cfg, "canary", NO_STATE, as("pf_not_owner")))).toEqual([
            "admin user pf_not_owner (receiver-tier:postgres.adminUser) neither owns database deltacrown nor is superuser: ALTER DATABASE ... SET statement_timeout fails",
        ]);
        expect(await attempt("pf_not_owner", `ALTER DATABASE ${DB} SET statement_timeout = '5s'`)).toMatch(/must be owner of database/);
    });

    it("fails the schema line for a user without CREATE on the database", async () => {
        const failed = failures(await databaseChecks(cfg, "canary", NO_STATE, as("pf_no_create")));
        expect(failed).toContain(
            "admin user pf_no_create (receiver-tier:postgres.adminUser) lacks CREATE on database deltacrown: the receiver schema cannot be created",
        );
        expect(await attempt("pf_no_create", "CREATE SCHEMA pf_probe")).toMatch(/permission denied for database/);
    });

    it("asks to adopt a role made by hand, and once adopted says what pulumi up will change on it", async () => {
        await pg.query("CREATE ROLE webhook_receiver NOLOGIN CONNECTION LIMIT 7");
        await pg.query("ALTER ROLE webhook_receiver SET statement_timeout = '5s'");
        try {
            expect(failures(await databaseChecks(cfg, "canary", NO_STATE, as("pf_owner")))).toEqual([
                "role webhook_receiver already exists: adopt it (receiver-tier:adopt.roles.webhook_receiver: webhook_receiver), or CREATE ROLE fails",
            ]);
            const adopting = canaryStepConfig(
                3,
                ["postgres.sslmode", "require"],
                ["adopt", { roles: { webhook_receiver: "webhook_receiver" } }],
            );
            const checks = await databaseChecks(adopting, "canary", NO_STATE, as("pf_owner"));
            expect(failures(checks)).toEqual([]);
            // The group role carries no timeout of its own (its logins do): the stack resets it.
            expect(checks.map((c) => c.name)).toContain(
                "role webhook_receiver exists and is adopted; pulumi up will change: CONNECTION LIMIT 7 -> -1; statement_timeout 5s -> (unset)",
            );
        } finally {
            await pg.query("DROP ROLE webhook_receiver");
        }
    });

    it("refuses to adopt the runbook's LOGIN webhook_receiver as the stack's NOLOGIN group: its users would be locked out", async () => {
        await pg.query(`CREATE ROLE webhook_receiver LOGIN PASSWORD '${PASSWORD}'`);
        await pg.query("ALTER ROLE webhook_receiver SET statement_timeout = '5s'");
        try {
            const adopting = canaryStepConfig(
                3,
                ["postgres.sslmode", "require"],
                ["adopt", { roles: { webhook_receiver: "webhook_receiver" } }],
            );
            const failed = failures(await databaseChecks(adopting, "canary", NO_STATE, as("pf_owner")));
            expect(failed).toHaveLength(1);
            expect(failed[0]).toMatch(
                /^adopting role webhook_receiver turns its LOGIN off: whoever logs in as webhook_receiver today is locked out \(LOGIN -> NOLOGIN.*the receiver-tier:cutover block keeps it a login/,
            );
            // Pulumi.canary.yaml as shipped (cutover step 1) adopts the runbook's role as it is: the import matches.
            const step1 = canaryStepConfig(1, ["postgres.sslmode", "require"]);
            const checks = await databaseChecks(step1, "canary", NO_STATE, as("pf_owner"));
            expect(failures(checks)).toEqual([]);
            expect(checks.map((c) => c.name)).toContain("role webhook_receiver exists and is adopted; pulumi up changes nothing on it");
        } finally {
            await pg.query("DROP ROLE webhook_receiver");
        }
    });

    it("passes a later deploy: roles in the stack's state are its own, not obstacles", async () => {
        await pg.query("CREATE ROLE webhook_receiver NOLOGIN");
        try {
            const state = readExport(exportOf(["postgresql:index/role:Role", "canary-postgres-role-webhook_receiver"]));
            const checks = await databaseChecks(cfg, "canary", state, as("pf_owner"));
            expect(failures(checks)).toEqual([]);
            expect(checks.map((c) => c.name)).toContain("role webhook_receiver is the stack's own (in its state)");
        } finally {
            await pg.query("DROP ROLE webhook_receiver");
        }
    });

    it("fails one clear line when the database cannot be reached from here", async () => {
        const nobody = await freePort();
        const failed = failures(await databaseChecks(cfg, "canary", NO_STATE, { ...as("pf_owner"), port: nobody }));
        expect(failed).toHaveLength(1);
        expect(failed[0]).toMatch(new RegExp(`^database 127\\.0\\.0\\.1:${nobody}/deltacrown as pf_owner .*ECONNREFUSED.*inside the VPC`));
    });

    it("fails one clear line for a wrong admin password", async () => {
        const failed = failures(await databaseChecks(cfg, "canary", NO_STATE, { ...as("pf_owner"), password: "wrong" }));
        expect(failed).toHaveLength(1);
        expect(failed[0]).toMatch(/password authentication failed for user "pf_owner"/);
    });
});
