import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderEventsTableSql } from "../../components/render/eventsTableSql";
import { md5Secret } from "../../components/model/authSecrets";
import { canaryStepConfig, connectPg, endQuietly, PostgresCluster, startPostgres } from "../../harness";
import { LEGACY_RECEIVER_TEST_PASSWORD } from "../../harness/testSecrets";

// The README promises `pulumi up` needs an admin user with CREATEROLE that owns the database, never a
// superuser (RDS's master user is not one). The program's EventsTable (database.sql's statements) gives the
// schema and table to the NOLOGIN owner role, and during the cutover takes the hand-made ones from
// webhook_receiver: PostgreSQL allows both only to a member of the roles involved. The roles themselves are
// made by the provider as the admin (CREATE ROLE), as here.

const ADMIN = { user: "tier_admin", password: "tier-admin-test-password" };

describe("database.sql run by a CREATEROLE admin that owns the database, not a superuser", () => {
    let pg: PostgresCluster;

    /** What EventsTable runs: the step's statements in one transaction, as the admin. */
    const eventsTableAsAdmin = async (step: 1 | 3, database = "deltacrown") => {
        const client = await connectPg({ host: "127.0.0.1", port: pg.port }, { ...ADMIN, database });
        try {
            await client.query("BEGIN");
            for (const statement of renderEventsTableSql(canaryStepConfig(step))) await client.query(statement);
            await client.query("COMMIT");
        } finally {
            await endQuietly(client);
        }
    };
    const owners = (database = "deltacrown") =>
        pg.query(
            `SELECT (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'webhook_receiver') AS schema,
                    (SELECT relowner::regrole::text FROM pg_class WHERE oid = 'webhook_receiver.webhook_events'::regclass) AS "table"`,
            database,
        );

    beforeAll(async () => {
        pg = await startPostgres();
        await pg.query(`CREATE ROLE ${ADMIN.user} LOGIN CREATEROLE PASSWORD '${ADMIN.password}'`);
        await pg.query(`CREATE DATABASE deltacrown OWNER ${ADMIN.user}`);
        await pg.query(`CREATE DATABASE fresh OWNER ${ADMIN.user}`);
        // As the runbook left it: the login, its schema, and the table the old receiver created at runtime.
        const legacySecret = md5Secret("webhook_receiver", LEGACY_RECEIVER_TEST_PASSWORD);
        await pg.query(`CREATE ROLE webhook_receiver LOGIN PASSWORD '${legacySecret}'`);
        await pg.query("CREATE SCHEMA webhook_receiver AUTHORIZATION webhook_receiver", "deltacrown");
        await pg.query(
            "SET ROLE webhook_receiver; CREATE TABLE webhook_receiver.webhook_events (id bigserial PRIMARY KEY, source text NOT NULL, delivery_id text NOT NULL, payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now(), UNIQUE (source, delivery_id))",
            "deltacrown",
        );
        const admin = await connectPg({ host: "127.0.0.1", port: pg.port }, { ...ADMIN, database: "postgres" });
        try {
            for (const role of ["webhook_receiver_owner", "webhook_receiver_a", "webhook_receiver_b"])
                await admin.query(`CREATE ROLE ${role}`);
        } finally {
            await endQuietly(admin);
        }
    }, 120_000);
    afterAll(async () => {
        await pg?.stop();
    });

    it("moves the hand-made schema and table to the owner role during the cutover (step 1), and runs again in step 3", async () => {
        await eventsTableAsAdmin(1);
        expect(await owners()).toEqual([{ schema: "webhook_receiver_owner", table: "webhook_receiver_owner" }]);
        await eventsTableAsAdmin(3);
        expect(await owners()).toEqual([{ schema: "webhook_receiver_owner", table: "webhook_receiver_owner" }]);
    });

    it("creates a fresh stack's schema and table owned by the owner role", async () => {
        await eventsTableAsAdmin(3, "fresh");
        expect(await owners("fresh")).toEqual([{ schema: "webhook_receiver_owner", table: "webhook_receiver_owner" }]);
    });
});
