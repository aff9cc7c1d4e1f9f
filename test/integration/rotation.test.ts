import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginPassword, receiverLogins } from "../../components/model/logins";
import { TierConfig, TierSecrets } from "../../components/schema/schema";
import { connectPg, endQuietly, loadTierConfig, sleep, startTier, Tier, TEST_SECRETS } from "../../harness";
import { renderTierFiles } from "../../components/render/tierFiles";

// Password rotation by alternating users (README "Rotating a password"), performed the documented way
// on the real PostgreSQL and PgBouncer while 100 clients insert webhooks through PgBouncer. Each
// `pulumi up` is played by what it changes: database.sql (the same roles the program creates) as a
// superuser, and PgBouncer's userlist and ini followed by a reload; receivers moving to the new login
// are played by clients reconnecting with the new secrets, one after another.

const CLIENTS = 100;
const NEW_PASSWORD_B = "it-rotated-b-Pw-9";
const rotated: TierSecrets = { ...TEST_SECRETS, receiverPasswordB: NEW_PASSWORD_B };
const stepConfig = (logins: { active: "a" | "b"; standby: "open" | "closed" }) => loadTierConfig("local", { receiverRole: { logins } });

interface Counts {
    inserts: number;
    failedInserts: number;
    failedLogins: number;
    errors: string[];
}

/** One receiver: inserts webhooks in a loop through PgBouncer as the login its secrets name, until stopped. */
class Receiver {
    private client: Client | undefined;
    private inflight: Promise<void> = Promise.resolve();
    login = "";

    constructor(
        private readonly tier: Tier,
        private readonly counts: Counts,
        private readonly id: number,
    ) {}

    /** Logs in (again) as the active login of `cfg` with `secrets`, as a new receiver instance would. */
    async start(cfg: TierConfig, secrets: TierSecrets): Promise<void> {
        const old = this.client;
        const login = receiverLogins(cfg).active;
        try {
            this.client = await connectPg(this.tier.pgbouncer, {
                user: login.name,
                password: loginPassword(secrets, login),
                database: cfg.pgbouncer.databaseAlias,
                application_name: `rotation-${this.id}`,
            });
            this.login = login.name;
        } catch (err) {
            this.counts.failedLogins++;
            this.counts.errors.push(`login ${login.name}: ${(err as Error).message}`);
        }
        // The old instance drains: its request in flight finishes before it goes.
        await this.inflight;
        if (old) await endQuietly(old);
    }

    async run(until: () => boolean): Promise<void> {
        for (let n = 0; !until() && n < 10_000; n++) {
            const client = this.client;
            if (!client) return;
            this.inflight = client
                .query("INSERT INTO rotation_events (receiver, login, n) VALUES ($1, session_user, $2)", [this.id, n])
                .then(
                    () => {
                        this.counts.inserts++;
                    },
                    (err: Error) => {
                        this.counts.failedInserts++;
                        this.counts.errors.push(`insert: ${err.message}`);
                    },
                );
            await this.inflight;
            await sleep(20);
        }
    }

    async stop(): Promise<void> {
        if (this.client) await endQuietly(this.client);
    }
}

describe("password rotation under load (alternating logins)", () => {
    const before = stepConfig({ active: "a", standby: "closed" });
    const counts: Counts = { inserts: 0, failedInserts: 0, failedLogins: 0, errors: [] };
    let tier: Tier;
    let receivers: Receiver[] = [];

    /** What `pulumi up` changes at once: the roles in PostgreSQL. */
    const deployPostgres = async (cfg: TierConfig, secrets: TierSecrets, step: string) => {
        const files = renderTierFiles(cfg, secrets, "local");
        await tier.postgres.psqlFile(cfg.postgres.database, tier.sandbox.write(`database-${step}.sql`, files["database.sql"], 0o600));
    };
    /** What a PgBouncer host does at its next poll: the new files and a reload. */
    const pollPgbouncer = async (cfg: TierConfig, secrets: TierSecrets) => {
        const files = renderTierFiles(cfg, secrets, "local");
        await tier.pgbouncer.reload(files["pgbouncer.ini"], files["userlist.txt"]);
        await sleep(300);
    };

    beforeAll(async () => {
        tier = await startTier({ cfg: before });
        // Made by the superuser: the logins may not create tables (least privilege).
        const schema = before.receiverRole.name;
        await tier.postgres.query(
            `CREATE TABLE ${schema}.rotation_events (id bigserial PRIMARY KEY, receiver int, login name, n int);
             GRANT INSERT, SELECT ON ${schema}.rotation_events TO ${schema}; GRANT USAGE ON SEQUENCE ${schema}.rotation_events_id_seq TO ${schema};`,
            before.postgres.database,
        );
    });
    afterAll(async () => {
        await Promise.all(receivers.map((r) => r.stop()));
        await tier?.stop();
    });

    it("moves 100 inserting clients from login a to b with no failed insert or login, then a's password no longer logs in", async () => {
        receivers = Array.from({ length: CLIENTS }, (_, id) => new Receiver(tier, counts, id));
        await Promise.all(receivers.map((r) => r.start(before, TEST_SECRETS)));
        expect(receivers.every((r) => r.login === "webhook_receiver_a")).toBe(true);
        let stopped = false;
        const deadline = Date.now() + 60_000;
        const load = Promise.all(receivers.map((r) => r.run(() => stopped || Date.now() > deadline)));
        await sleep(1000);

        // Step 1: the standby's new password, standby open; wait until PgBouncer has polled it.
        const opened = stepConfig({ active: "a", standby: "open" });
        await deployPostgres(opened, rotated, "1-open");
        await pollPgbouncer(opened, rotated);
        await sleep(1000);

        // Step 2: the active login switches. Receivers move one after another (an instance refresh)
        // before PgBouncer polls again: it must already accept b.
        const switched = stepConfig({ active: "b", standby: "open" });
        await deployPostgres(switched, rotated, "2-switch");
        for (const receiver of receivers) {
            await receiver.start(switched, rotated);
            await sleep(10);
        }
        expect(receivers.every((r) => r.login === "webhook_receiver_b")).toBe(true);
        await pollPgbouncer(switched, rotated);
        await sleep(1000);

        // Step 3: the old login closes once every receiver has moved.
        const closed = stepConfig({ active: "b", standby: "closed" });
        await deployPostgres(closed, rotated, "3-close");
        await pollPgbouncer(closed, rotated);
        await sleep(1000);
        stopped = true;
        await load;

        expect(counts.errors.slice(0, 5)).toEqual([]);
        expect(counts).toMatchObject({ failedInserts: 0, failedLogins: 0 });
        const rows = await tier.postgres.query<{ login: string; n: number }>(
            "SELECT login, count(*)::int AS n FROM webhook_receiver.rotation_events GROUP BY login ORDER BY login",
            before.postgres.database,
        );
        expect(rows.map((r) => r.login)).toEqual(["webhook_receiver_a", "webhook_receiver_b"]);
        expect(rows.reduce((sum, r) => sum + r.n, 0)).toBe(counts.inserts);

        // a's password logs in nowhere any more; b's does, with the same statement timeout.
        const oldA = { user: "webhook_receiver_a", password: TEST_SECRETS.receiverPasswordA };
        await expect(connectPg(tier.pgbouncer, { ...oldA, database: before.pgbouncer.databaseAlias })).rejects.toThrow();
        await expect(connectPg(tier.postgres, { ...oldA, database: before.postgres.database })).rejects.toThrow(/not permitted to log in/);
        const b = await connectPg(tier.pgbouncer, {
            user: "webhook_receiver_b",
            password: NEW_PASSWORD_B,
            database: before.pgbouncer.databaseAlias,
        });
        try {
            expect((await b.query("SHOW statement_timeout")).rows).toEqual([{ statement_timeout: before.receiverRole.statementTimeout }]);
        } finally {
            await endQuietly(b);
        }
    });
});
