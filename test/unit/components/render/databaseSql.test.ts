import { describe, expect, it } from "vitest";
import { TierConfig } from "../../../../components/schema/schema";
import { renderDatabaseSql } from "../../../../components/render/databaseSql";
import { renderPgbouncerIni } from "../../../../components/render/pgbouncerIni";
import { renderUserlist } from "../../../../components/render/userlist";
import { iniSection, parseScramVerifier, parseUserlist, scramVerifierAccepts } from "../../support/fileParsers";
import { loadCanary, loadCanaryWith, TEST_SECRETS } from "../../support/stackConfig";
import { canaryStepConfig } from "../../../../harness/cutoverSteps";

/** The clauses of the single `ALTER ROLE <role> WITH ...;` statement for a role. */
function roleAttributes(sql: string, role: string): string {
    const statements = sql.split("\n").filter((line) => line.startsWith(`ALTER ROLE "${role}" WITH `));
    expect(statements, `ALTER ROLE ${role} WITH`).toHaveLength(1);
    return statements[0] as string;
}

/** The PASSWORD '...' literal of a role's ALTER ROLE statement. */
function passwordLiteral(sql: string, role: string): string | undefined {
    return /\bPASSWORD '([^']*)'/.exec(roleAttributes(sql, role))?.[1];
}

function connectionLimit(sql: string, role: string): number | undefined {
    const match = /\bCONNECTION LIMIT (-?\d+)\b/.exec(roleAttributes(sql, role));
    return match ? Number(match[1]) : undefined;
}

const lines = (sql: string) => sql.split("\n");

describe("database.sql for the canary stack", () => {
    const cfg = loadCanary();
    const sql = renderDatabaseSql(cfg, TEST_SECRETS, "canary");

    it("runs in one transaction", () => {
        const statements = lines(sql).filter((line) => line !== "" && !line.startsWith("--"));
        expect(statements[0]).toBe("BEGIN;");
        expect(statements.at(-1)).toBe("COMMIT;");
    });

    it("sets the runbook's 5s statement timeout on both receiver logins and on the database, where it holds behind PgBouncer (mistake 1)", () => {
        for (const login of ["webhook_receiver_a", "webhook_receiver_b"]) {
            expect(lines(sql)).toContain(`ALTER ROLE "${login}" SET statement_timeout = '5s';`);
        }
        expect(lines(sql)).toContain(`ALTER DATABASE "deltacrown" SET statement_timeout = '5s';`);
    });

    it("ends both receiver logins' idle-in-transaction sessions (mistake 10)", () => {
        for (const login of ["webhook_receiver_a", "webhook_receiver_b"]) {
            expect(lines(sql)).toContain(`ALTER ROLE "${login}" SET idle_in_transaction_session_timeout = '10s';`);
        }
    });

    it("gives the active login the same pre-hashed secret that userlist.txt holds (mistake 2)", () => {
        const userlist = parseUserlist(renderUserlist(cfg, TEST_SECRETS));
        const password = passwordLiteral(sql, "webhook_receiver_a");
        expect(password).toBe(userlist.get("webhook_receiver_a"));
        expect(scramVerifierAccepts(password ?? "", TEST_SECRETS.receiverPasswordA)).toBe(true);
    });

    it("makes both logins act as the NOLOGIN group role, whose only privileges are INSERT and SELECT on the events table", () => {
        expect(roleAttributes(sql, "webhook_receiver")).toMatch(/\bNOLOGIN\b/);
        expect(passwordLiteral(sql, "webhook_receiver")).toBeUndefined();
        for (const login of ["webhook_receiver_a", "webhook_receiver_b"]) {
            expect(lines(sql)).toContain(`GRANT "webhook_receiver" TO "${login}";`);
            expect(lines(sql)).toContain(`ALTER ROLE "${login}" SET role = 'webhook_receiver';`);
        }
        expect(roleAttributes(sql, "webhook_receiver_owner")).toMatch(/\bNOLOGIN\b/);
        // Only the admin running it becomes a member (to give the schema and table to it), never a tier role.
        expect(lines(sql).filter((line) => line.startsWith('GRANT "webhook_receiver_owner"'))).toEqual([
            'GRANT "webhook_receiver_owner" TO CURRENT_USER;',
        ]);
        expect(lines(sql)).toContain('CREATE SCHEMA IF NOT EXISTS "webhook_receiver" AUTHORIZATION "webhook_receiver_owner";');
        expect(lines(sql)).toContain('ALTER TABLE "webhook_receiver"."webhook_events" OWNER TO "webhook_receiver_owner";');
        expect(lines(sql).filter((line) => line.startsWith("GRANT") && line.includes(" ON "))).toEqual([
            'GRANT CONNECT ON DATABASE "deltacrown" TO "webhook_receiver", "receiver_monitor";',
            'GRANT USAGE ON SCHEMA "webhook_receiver" TO "webhook_receiver";',
            'GRANT INSERT, SELECT ON TABLE "webhook_receiver"."webhook_events" TO "webhook_receiver";',
            'GRANT USAGE ON SEQUENCE "webhook_receiver"."webhook_events_id_seq" TO "webhook_receiver";',
        ]);
        expect(lines(sql)).toContain('REVOKE CONNECT, TEMPORARY ON DATABASE "deltacrown" FROM PUBLIC;');
    });

    it("lets the closed standby login exist without logging in, with its own verifier", () => {
        expect(roleAttributes(sql, "webhook_receiver_a")).toMatch(/\bWITH LOGIN\b/);
        expect(roleAttributes(sql, "webhook_receiver_b")).toMatch(/\bWITH NOLOGIN\b/);
        expect(scramVerifierAccepts(passwordLiteral(sql, "webhook_receiver_b") ?? "", TEST_SECRETS.receiverPasswordB)).toBe(true);
    });

    it("limits each receiver login to every PgBouncer host at its max_db_connections, plus one host during a roll", () => {
        const maxDbConnections = Number(iniSection(renderPgbouncerIni(cfg, "canary"), "pgbouncer").max_db_connections);
        for (const login of ["webhook_receiver_a", "webhook_receiver_b"]) {
            expect(connectionLimit(sql, login)).toBe((cfg.pgbouncer.hosts + 1) * maxDbConnections);
        }
        expect(connectionLimit(sql, "webhook_receiver_a")).toBe(3 * 25);
    });

    it("lets the monitor role read every session through pg_monitor, with its own verifier", () => {
        expect(lines(sql)).toContain('GRANT "pg_monitor" TO "receiver_monitor";');
        expect(roleAttributes(sql, "receiver_monitor")).toMatch(/\bLOGIN\b/);
        expect(scramVerifierAccepts(passwordLiteral(sql, "receiver_monitor") ?? "", TEST_SECRETS.monitorPassword)).toBe(true);
    });

    it("reserves both stats logins' names without letting them sign in to PostgreSQL", () => {
        for (const login of ["pgbouncer_stats_a", "pgbouncer_stats_b"]) {
            expect(roleAttributes(sql, login)).toMatch(/\bNOLOGIN\b/);
            expect(passwordLiteral(sql, login)).toBeUndefined();
        }
    });

    it("gives the tier's roles no superuser-like attribute", () => {
        for (const role of ["webhook_receiver", "webhook_receiver_a", "webhook_receiver_b", "pgbouncer_stats_a", "receiver_monitor"]) {
            expect(roleAttributes(sql, role)).toMatch(/\bNOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS\b/);
        }
    });

    it("holds no plain password", () => {
        for (const password of Object.values(TEST_SECRETS)) expect(sql).not.toContain(password);
    });
});

describe("database.sql follows the config", () => {
    const sqlFor = (cfg: TierConfig) => renderDatabaseSql(cfg, TEST_SECRETS, "canary");

    it("stores md5 secrets when the stack uses the runbook's md5 (values from python3 hashlib)", () => {
        const sql = sqlFor(loadCanaryWith(["pgbouncer.settings.auth_type", "md5"]));
        expect(passwordLiteral(sql, "webhook_receiver_a")).toBe("md53faa6aef3520da4acbb51e224d8817e4");
        expect(passwordLiteral(sql, "webhook_receiver_b")).toBe("md5f9bb7513af0231fd4e199ea6b70fa235");
        expect(passwordLiteral(sql, "receiver_monitor")).toBe("md54845d9ab70750e3ff549bdf71d825fd7");
    });

    it("recomputes the receiver logins' connection limit from hosts (+1 during a roll) and pool sizes", () => {
        const cfg = loadCanaryWith(
            ["pgbouncer.hosts", 3],
            ["pgbouncer.settings.default_pool_size", 14],
            ["pgbouncer.settings.reserve_pool_size", 5],
        );
        expect(connectionLimit(sqlFor(cfg), "webhook_receiver_b")).toBe(4 * 19);
    });

    it("applies another statement timeout and database name to both places", () => {
        const sql = sqlFor(
            loadCanaryWith(
                ["receiverRole.statementTimeout", "2s"],
                ["postgres.database", "other_db"],
                ["pgbouncer.settings.query_timeout", 0],
            ),
        );
        expect(lines(sql)).toContain(`ALTER ROLE "webhook_receiver_b" SET statement_timeout = '2s';`);
        expect(lines(sql)).toContain(`ALTER DATABASE "other_db" SET statement_timeout = '2s';`);
    });

    it("uses a 4096-iteration SCRAM verifier for every role password", () => {
        const sql = sqlFor(loadCanary());
        for (const role of ["webhook_receiver_a", "webhook_receiver_b", "receiver_monitor"]) {
            expect(parseScramVerifier(passwordLiteral(sql, role) ?? "").iterations).toBe(4096);
        }
    });
});

describe('database.sql through the cutover (README "First deploy into an existing environment")', () => {
    const sql = (step: 1 | 3) => renderDatabaseSql(canaryStepConfig(step), TEST_SECRETS, "canary");

    it("step 1 keeps webhook_receiver LOGIN with no PASSWORD clause (its own md5 password stays) and CREATE on its schema", () => {
        expect(roleAttributes(sql(1), "webhook_receiver")).toBe(
            'ALTER ROLE "webhook_receiver" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;',
        );
        expect(sql(1)).toContain(`ALTER ROLE "webhook_receiver" SET statement_timeout = '5s';`);
        expect(sql(1)).toContain('GRANT CREATE ON SCHEMA "webhook_receiver" TO "webhook_receiver";');
        expect(sql(1)).toContain('ALTER TABLE "webhook_receiver"."webhook_events" OWNER TO "webhook_receiver_owner";');
    });

    it("step 3 makes it NOLOGIN and leaves the schema's CREATE revoked", () => {
        expect(roleAttributes(sql(3), "webhook_receiver")).toBe(
            'ALTER ROLE "webhook_receiver" WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;',
        );
        expect(sql(3)).toContain('REVOKE ALL ON SCHEMA "webhook_receiver" FROM PUBLIC, "webhook_receiver";');
        expect(sql(3)).not.toContain("GRANT CREATE");
    });
});
