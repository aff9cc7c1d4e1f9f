import { receiverLogins } from "../../components/model/logins";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activeLogin, connectPg, endQuietly, loadTierConfig, postWebhook, rowsOf, startTier, Tier, timed } from "../../harness";

// Property 2: with either auth_type the server stores the very secret userlist.txt holds, so
// PgBouncer can log in on the client's behalf; the whole path works and a wrong password does not.

/** user -> secret from a rendered userlist.txt ("user" "secret" per line). */
function userlistSecrets(userlist: string): Map<string, string> {
    const secrets = new Map<string, string>();
    for (const line of userlist.split("\n").filter((l) => l.trim() !== "")) {
        const m = /^"([^"]+)" "([^"]+)"$/.exec(line);
        if (!m) throw new Error(`unexpected userlist line: ${line}`);
        secrets.set(m[1] as string, m[2] as string);
    }
    return secrets;
}

describe.each([
    { authType: "scram-sha-256" as const, secretPattern: /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/ },
    { authType: "md5" as const, secretPattern: /^md5[0-9a-f]{32}$/ },
])("auth_type $authType end to end", ({ authType, secretPattern }) => {
    const cfg = loadTierConfig("local", { pgbouncer: { settings: { auth_type: authType } } });
    const { user: receiver, password: receiverPassword } = activeLogin(receiverLogins(cfg));
    let tier: Tier;

    beforeAll(async () => {
        tier = await startTier({ cfg, gunicorn: true });
    });
    afterAll(async () => {
        await tier?.stop();
    });

    it("pg_authid.rolpassword of the receiver role equals its userlist.txt secret", async () => {
        const secret = userlistSecrets(tier.files["userlist.txt"]).get(receiver);
        expect(secret).toMatch(secretPattern);
        const stored = await tier.postgres.query<{ rolpassword: string }>(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
            "postgres",
            [receiver],
        );
        expect(stored).toEqual([{ rolpassword: secret }]);
        // pg_hba for the tier roles is this auth_type, not trust.
        const hba = await tier.postgres.query<{ auth_method: string }>(
            "SELECT auth_method FROM pg_hba_file_rules WHERE 'all' = ANY(user_name) AND type = 'host'",
        );
        expect(hba).toEqual([{ auth_method: authType }]);
    });

    it("the receiver login logs in through PgBouncer, PgBouncer logs in to PostgreSQL, and writes land", async () => {
        const client = await tier.receiver();
        try {
            // The login acts as the group role, which owns the schema and tables both logins share.
            expect(await rowsOf(client, "SELECT session_user AS who, current_user AS acting, current_database() AS db")).toEqual([
                { who: receiver, acting: cfg.receiverRole.name, db: cfg.postgres.database },
            ]);
        } finally {
            await endQuietly(client);
        }
        // The same password also works directly against PostgreSQL with this pg_hba method.
        const direct = await connectPg(tier.postgres, {
            user: receiver,
            password: receiverPassword,
            database: cfg.postgres.database,
        });
        await endQuietly(direct);
        // And the receiver app (Gunicorn, via PgBouncer) stores a webhook.
        const port = tier.gunicorn?.port ?? 0;
        const response = await postWebhook({ port, signing: tier.signing, source: "auth-check", body: JSON.stringify({ authType }) });
        expect(response.status).toBe(202);
        const rows = await tier.postgres.query(
            `SELECT payload->>'authType' AS auth FROM ${cfg.receiverRole.name}.webhook_events WHERE source = 'auth-check'`,
            cfg.postgres.database,
        );
        expect(rows).toEqual([{ auth: authType }]);
    });

    it("the stats user signs in to the PgBouncer console with its password", async () => {
        const stats = await tier.stats();
        try {
            expect((await rowsOf(stats, "SHOW POOLS")).length).toBeGreaterThan(0);
        } finally {
            await endQuietly(stats);
        }
    });

    it("a wrong password is refused by PgBouncer (receiver and stats user)", async () => {
        for (const connect of [tier.receiver, tier.stats]) {
            const refused = await timed(() => connect({ password: "wrong-password" }));
            expect(refused.value).toBeUndefined();
            // PgBouncer 1.18 answers with its own FATAL (SQLSTATE 08P01), worded per method.
            expect(refused.error?.message).toMatch(authType === "md5" ? /password authentication failed/ : /SASL authentication failed/);
        }
    });
});
