import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectPg, endQuietly, loadTierConfig, rowsOf, startTier, Tier, timed } from "../../harness";
import { loginPassword, receiverLogins } from "../../components/model/logins";
import { schemaOwnerRole } from "../../components/model/roles";

// Least privilege and session state on the real PostgreSQL and PgBouncer, as database.sql and pgbouncer.ini
// render them. One server connection (default_pool_size 1, no reserve) so every client of the alias shares
// it: what one client SETs is what the next one would get without server_reset_query.

const LEAK_CHECK_CLIENTS = 10;

describe("least privilege and session state under transaction pooling", () => {
    const cfg = loadTierConfig("local", { pgbouncer: { settings: { default_pool_size: 1, min_pool_size: 0, reserve_pool_size: 0 } } });
    const group = cfg.receiverRole.name;
    const table = `${group}.webhook_events`;
    let tier: Tier;
    const clients: Client[] = [];
    const receiver = async () => {
        const client = await tier.receiver();
        clients.push(client);
        return client;
    };
    const sqlstate = async (client: Client, sql: string) => (await timed(() => client.query(sql))).error?.code;

    beforeAll(async () => {
        tier = await startTier({ cfg });
    });
    afterAll(async () => {
        await Promise.all(clients.map((c) => endQuietly(c)));
        await tier?.stop();
    });

    it("database.sql made the events table, owned by the NOLOGIN owner role, not by the role the logins act as", async () => {
        const [owner] = await tier.postgres.query<{ owner: string; canlogin: boolean }>(
            `SELECT tableowner AS owner, r.rolcanlogin AS canlogin FROM pg_tables t JOIN pg_roles r ON r.rolname = t.tableowner
              WHERE schemaname = $1 AND tablename = 'webhook_events'`,
            cfg.postgres.database,
            [group],
        );
        expect(owner).toEqual({ owner: schemaOwnerRole(cfg), canlogin: false });
    });

    it("the receiver login inserts and reads back, but may not DELETE, TRUNCATE, DROP, ALTER, CREATE or use TEMP", async () => {
        const client = await receiver();
        const inserted = await rowsOf(
            client,
            `INSERT INTO ${table} (source, delivery_id, payload, body_sha256) VALUES ('privilege', 'p-1', '{}', repeat('0', 64)) RETURNING id`,
        );
        expect(inserted).toHaveLength(1);
        expect(await rowsOf(client, `SELECT count(*)::int AS n FROM ${table} WHERE delivery_id = 'p-1'`)).toEqual([{ n: 1 }]);
        const refused = {
            delete: await sqlstate(client, `DELETE FROM ${table}`),
            update: await sqlstate(client, `UPDATE ${table} SET payload = '{}'`),
            truncate: await sqlstate(client, `TRUNCATE ${table}`),
            drop: await sqlstate(client, `DROP TABLE ${table}`),
            alter: await sqlstate(client, `ALTER TABLE ${table} ADD COLUMN x int`),
            create: await sqlstate(client, `CREATE TABLE ${group}.mine (id int)`),
            temp: await sqlstate(client, "CREATE TEMP TABLE scratch (id int)"),
            // Its own privileges too, without the group role (a client's SET ROLE NONE).
            deleteAsLogin: await sqlstate(client, `SET LOCAL ROLE NONE; DELETE FROM ${table}`),
        };
        expect(refused).toEqual({
            delete: "42501",
            update: "42501",
            truncate: "42501",
            drop: "42501",
            alter: "42501",
            create: "42501",
            temp: "42501",
            deleteAsLogin: "42501",
        });
        const rows = await tier.postgres.query(`SELECT 1 FROM ${table} WHERE delivery_id = 'p-1'`, cfg.postgres.database);
        expect(rows).toHaveLength(1);
    });

    it("reaches no other database through PgBouncer, and PUBLIC may not connect to the tier's database", async () => {
        const login = receiverLogins(cfg).active;
        const other = await timed(() =>
            connectPg(tier.pgbouncer, { user: login.name, password: loginPassword(tier.secrets, login), database: "postgres" }),
        );
        expect(other.error?.message).toMatch(/no such database/);
        if (other.value) await endQuietly(other.value);
        // A role that was never granted CONNECT (PostgreSQL's default grant to PUBLIC is revoked).
        await tier.postgres.query(
            "DO $$ BEGIN CREATE ROLE stranger LOGIN PASSWORD 'stranger-password'; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        );
        const stranger = await timed(() =>
            connectPg(tier.postgres, { user: "stranger", password: "stranger-password", database: cfg.postgres.database }),
        );
        expect(stranger.error?.message).toMatch(/permission denied for database/);
        if (stranger.value) await endQuietly(stranger.value);
    });

    it(`a client's SET statement_timeout = 0 and SET ROLE NONE reach none of the next ${LEAK_CHECK_CLIENTS} clients of the one server connection`, async () => {
        const first = await receiver();
        const [{ pid }] = (await rowsOf(first, "SELECT pg_backend_pid() AS pid")) as [{ pid: number }];
        await first.query("SET statement_timeout = 0");
        await first.query("SET ROLE NONE");
        const seen = [];
        for (let i = 0; i < LEAK_CHECK_CLIENTS; i++) {
            const next = await receiver();
            const [row] = await rowsOf(
                next,
                "SELECT pg_backend_pid() AS pid, current_setting('statement_timeout') AS timeout, current_user AS role",
            );
            seen.push(row);
        }
        // The same server connection every time, each time with the role's own settings back.
        expect(seen).toEqual(Array(LEAK_CHECK_CLIENTS).fill({ pid, timeout: cfg.receiverRole.statementTimeout, role: group }));
        // And the timeout is enforced, not only shown.
        const slow = await timed(() => (clients.at(-1) as Client).query("SELECT pg_sleep(30)"));
        expect(slow.error?.code).toBe("57014");
        expect(slow.seconds).toBeLessThan(10);
    });
});
