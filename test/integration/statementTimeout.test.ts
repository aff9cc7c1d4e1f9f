import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { durationToMs } from "../../components/schema/duration";
import { endQuietly, loadTierConfig, rowsOf, startTier, Tier, timed } from "../../harness";

// Property 1: the statement timeout comes from the role (database.sql), through PgBouncer,
// and PostgreSQL (not PgBouncer's query_timeout) cancels the query, leaving the client usable.

describe("statement_timeout through PgBouncer as the receiver role", () => {
    const cfg = loadTierConfig("local");
    const timeoutSeconds = durationToMs(cfg.receiverRole.statementTimeout) / 1000;
    let tier: Tier;
    let client: Client;

    beforeAll(async () => {
        tier = await startTier({ cfg });
        client = await tier.receiver();
    });
    afterAll(async () => {
        if (client) await endQuietly(client);
        await tier?.stop();
    });

    it(`SHOW statement_timeout is ${cfg.receiverRole.statementTimeout}`, async () => {
        expect(cfg.receiverRole.statementTimeout).toBe("5s");
        expect(await rowsOf(client, "SHOW statement_timeout")).toEqual([{ statement_timeout: "5s" }]);
    });

    it("pg_sleep past the timeout fails with SQLSTATE 57014 after about the timeout; the connection stays usable", async () => {
        const sleepSeconds = timeoutSeconds + 1;
        const result = await timed(() => client.query(`SELECT pg_sleep(${sleepSeconds})`));
        expect(result.error?.code).toBe("57014");
        expect(result.error?.message).toMatch(/canceling statement due to statement timeout/);
        expect(result.seconds).toBeGreaterThan(timeoutSeconds - 0.25);
        expect(result.seconds).toBeLessThan(timeoutSeconds + 1);
        // PgBouncer's query_timeout did not race it: it is clearly above the statement timeout.
        expect(cfg.pgbouncer.settings.query_timeout).toBeGreaterThan(timeoutSeconds);

        // Same client connection, next statement works.
        expect(await rowsOf(client, "SELECT 41 + 1 AS answer")).toEqual([{ answer: 42 }]);
        // And the cancelled query is not still running on the server.
        const running = await tier.postgres.query(
            "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep(%'",
            cfg.postgres.database,
        );
        expect(running).toEqual([]);
    });
});
