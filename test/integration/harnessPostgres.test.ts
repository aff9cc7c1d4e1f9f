import * as fs from "fs";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectPg, endQuietly, isAlive, PostgresCluster, startPostgres, trackedAlive } from "../../harness";

// The reusable part of the harness on its own: a throwaway PostgreSQL with a superuser URL and stop().

describe("harness: startPostgres on its own", () => {
    let pg: PostgresCluster;

    beforeAll(async () => {
        pg = await startPostgres({ maxConnections: 20, superuserReservedConnections: 2 });
    });
    afterAll(async () => {
        await pg?.stop();
    });

    it("gives a superuser URL that works over TCP on 127.0.0.1 with SCRAM", async () => {
        expect(pg.superuserUrl).toMatch(/^postgresql:\/\/postgres:[0-9a-f]+@127\.0\.0\.1:\d+\/postgres$/);
        const client = new Client({ connectionString: pg.superuserUrl });
        await client.connect();
        try {
            const rows = (
                await client.query(
                    "SELECT current_user AS who, current_setting('max_connections') AS max, current_setting('password_encryption') AS enc, inet_server_addr()::text AS addr",
                )
            ).rows;
            expect(rows).toEqual([{ who: "postgres", max: "20", enc: "scram-sha-256", addr: "127.0.0.1/32" }]);
        } finally {
            await client.end();
        }
        await expect(connectPg(pg, { user: "postgres", password: "wrong", database: "postgres" })).rejects.toThrow(
            /password authentication failed/,
        );
    });

    it("trusts nobody over TCP: other roles need their password", async () => {
        const rules = await pg.query<{ type: string; auth_method: string }>("SELECT type, auth_method FROM pg_hba_file_rules");
        expect(rules.filter((r) => r.type !== "local").map((r) => r.auth_method)).toEqual(["scram-sha-256", "scram-sha-256"]);
        await pg.query("CREATE ROLE harness_probe LOGIN PASSWORD 'probe-pass'");
        const ok = await connectPg(pg, { user: "harness_probe", password: "probe-pass", database: "postgres" });
        await endQuietly(ok);
        await expect(connectPg(pg, { user: "harness_probe", password: "nope", database: "postgres" })).rejects.toThrow(
            /password authentication failed/,
        );
    });

    it("stop() ends the server by PID and removes its files", async () => {
        const pid = pg.pid();
        expect(pid).toBeDefined();
        await pg.stop();
        expect(isAlive(pid as number)).toBe(false);
        expect(fs.existsSync(pg.dataDir)).toBe(false);
        expect(trackedAlive()).toEqual([]);
        await pg.stop(); // idempotent
    });
});
