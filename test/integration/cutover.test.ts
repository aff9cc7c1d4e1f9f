import { Client, ClientConfig } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOST_PATHS } from "../../components/model/hostPaths";
import { postgresBudget } from "../../components/model/capacity";
import { renderTierFiles } from "../../components/render/tierFiles";
import { TierConfig } from "../../components/schema/schema";
import {
    canaryStepConfig,
    connectPg,
    createTestCa,
    endQuietly,
    PgbouncerProcess,
    PostgresCluster,
    Sandbox,
    sleep,
    startPgbouncer,
    startPostgres,
    TEST_SECRETS,
} from "../../harness";
import { LEGACY_RECEIVER_TEST_PASSWORD } from "../../harness/testSecrets";
import { cutoverChecks } from "../../checks/preflightCutover";
import { Check } from "../../checks/result";
import { NO_STATE, StackState } from "../../checks/stackState";
import { md5Secret } from "../../components/model/authSecrets";
import { PostgresConnection } from "../../components/postgres/databaseSetting";

// The cutover from the hand-made canary (README "First deploy into an existing environment") rehearsed on the
// real PostgreSQL 15 and PgBouncer 1.18. The database and a PgBouncer are set up as the runbook did by hand
// (webhook_receiver LOGIN with an md5 password, its pgbouncer.ini and userlist, the table the old receiver
// creates at runtime); 50 old receivers insert continuously as webhook_receiver while each step runs in order:
// step 1's rendered database.sql (Pulumi.canary.yaml as shipped), the stack's PgBouncer started from step 1's
// rendered pgbouncer.ini and userlist, pgbouncer.internal moved to it (the old receivers' next connections go
// there); step 2 the senders move (each old receiver is replaced by one of the stack's, inserting as
// webhook_receiver_a) and the hand-made PgBouncer stops; step 3's database.sql and PgBouncer files. Every
// failed login and insert is counted; at the end the hand-made login is refused.

const LEGACY_CLIENTS = 50;
/** The old receivers' Django CONN_MAX_AGE, shortened: each worker reconnects (a new DNS lookup) this often. */
const CONNECTION_AGE_MS = 1500;
const PAUSE_MS = 40;
const LEGACY = { user: "webhook_receiver", password: LEGACY_RECEIVER_TEST_PASSWORD };

// The runbook's PgBouncer: its [pgbouncer] values as written, plus the file and listen settings Debian's package
// ships (the harness points them into its sandbox).
const RUNBOOK_PGBOUNCER_INI = `[databases]
deltacrown_receiver = host=postgres-primary.internal port=5432 dbname=deltacrown

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = 6432
unix_socket_dir = /var/run/postgresql
logfile = /var/log/postgresql/pgbouncer.log
pidfile = /var/run/postgresql/pgbouncer.pid
pool_mode = transaction
max_client_conn = 500
default_pool_size = 25
reserve_pool_size = 10
min_pool_size = 5
auth_type = md5
auth_file = /etc/pgbouncer/userlist.txt
log_connections = 1
log_disconnections = 1
log_pooler_errors = 1
server_idle_timeout = 30
server_lifetime = 3600
query_timeout = 5
query_wait_timeout = 3
`;

// The old receiver (this project's before the stack created the table): each worker creates it on first use.
const OLD_RECEIVER_CREATE =
    "CREATE TABLE IF NOT EXISTS webhook_receiver.webhook_events (id bigserial PRIMARY KEY, source text NOT NULL, delivery_id text NOT NULL," +
    " payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now(), UNIQUE (source, delivery_id))";
/** unique_violation, duplicate_table, duplicate_object: what the old receiver's create caught. */
const CREATE_RACE_CODES = ["23505", "42P07", "42710"];
const OLD_RECEIVER_INSERT =
    "INSERT INTO webhook_receiver.webhook_events (source, delivery_id, payload) VALUES ($1, $2, $3::jsonb) ON CONFLICT (source, delivery_id) DO NOTHING RETURNING id";
const STACK_RECEIVER_INSERT =
    "INSERT INTO webhook_receiver.webhook_events (source, delivery_id, payload, body_sha256) VALUES ($1, $2, $3::jsonb, encode(sha256(convert_to($3::text, 'UTF8')), 'hex')) ON CONFLICT (source, delivery_id) DO NOTHING RETURNING id";

const postgresCa = createTestCa("cutover PostgreSQL CA");
const pgbouncerCa = createTestCa("cutover PgBouncer CA");
const postgresCert = postgresCa.issue({ dns: ["postgres-primary.internal"], ip: ["127.0.0.1"] });
const pgbouncerCert = pgbouncerCa.issue({ dns: ["pgbouncer.internal"] });
const caBundle: [string, string] = ["postgres.caBundle", postgresCa.certPem];
const steps: Record<1 | 3, TierConfig> = { 1: canaryStepConfig(1, caBundle), 3: canaryStepConfig(3, caBundle) };

interface Counts {
    legacyInserts: Map<string, number>;
    stackInserts: number;
    failedInserts: number;
    failedLogins: number;
    errors: string[];
}

describe("cutover from the hand-made canary under load", () => {
    const sandbox = Sandbox.temp("receiver-tier-cutover-");
    const counts: Counts = { legacyInserts: new Map(), stackInserts: 0, failedInserts: 0, failedLogins: 0, errors: [] };
    let pg: PostgresCluster;
    let handMade: PgbouncerProcess;
    let stack: PgbouncerProcess | undefined;
    /** Where pgbouncer.internal points: each new connection of an old receiver looks it up again. */
    let pgbouncerInternal: () => PgbouncerProcess;
    /** Old receivers connected to each PgBouncer now, by port. */
    const connectedTo = new Map<number, number>();
    let maxServerSessions = 0;
    const bouncerSandboxes = [Sandbox.temp("receiver-tier-cutover-handmade-"), Sandbox.temp("receiver-tier-cutover-stack-")];

    const failed = (kind: "login" | "insert", who: string, err: unknown) => {
        if (kind === "login") counts.failedLogins++;
        else counts.failedInserts++;
        counts.errors.push(`${who} ${kind}: ${(err as Error).message}`);
    };

    /** One old receiver worker: connects as webhook_receiver where pgbouncer.internal points, as libpq's sslmode=prefer does. */
    async function legacyReceiver(id: number, moved: () => boolean): Promise<void> {
        for (let n = 0; !moved();) {
            const target = pgbouncerInternal();
            // libpq's default sslmode=prefer: TLS without verification where the server offers it, else plaintext.
            const ssl: ClientConfig["ssl"] = target === handMade ? false : { rejectUnauthorized: false };
            let client: Client;
            try {
                client = await connectPg(target, { ...LEGACY, database: "deltacrown_receiver", ssl });
            } catch (err) {
                failed("login", `old receiver ${id}`, err);
                await sleep(PAUSE_MS);
                continue;
            }
            connectedTo.set(target.port, (connectedTo.get(target.port) ?? 0) + 1);
            const where = target === handMade ? "hand-made" : "stack";
            try {
                await client.query(OLD_RECEIVER_CREATE).catch((err: Error & { code?: string }) => {
                    // As the old receiver: another worker winning the race to create the table is fine.
                    if (!CREATE_RACE_CODES.includes(err.code ?? "")) failed("insert", `old receiver ${id} (create)`, err);
                });
                for (const until = Date.now() + CONNECTION_AGE_MS * (0.5 + Math.random()); Date.now() < until && !moved(); n++) {
                    try {
                        await client.query(OLD_RECEIVER_INSERT, ["old", `old-${id}-${n}`, JSON.stringify({ id, n })]);
                        counts.legacyInserts.set(where, (counts.legacyInserts.get(where) ?? 0) + 1);
                    } catch (err) {
                        failed("insert", `old receiver ${id}`, err);
                    }
                    await sleep(PAUSE_MS);
                }
            } finally {
                connectedTo.set(target.port, (connectedTo.get(target.port) ?? 1) - 1);
                await endQuietly(client);
            }
        }
    }

    /** One of the stack's receivers: webhook_receiver_a through the stack's PgBouncer, its certificate verified. */
    async function stackReceiver(id: number, stopped: () => boolean): Promise<void> {
        const bouncer = stack as PgbouncerProcess;
        let client: Client;
        try {
            client = await connectPg(bouncer, {
                user: "webhook_receiver_a",
                password: TEST_SECRETS.receiverPasswordA,
                database: "deltacrown_receiver",
                ssl: { ca: pgbouncerCa.certPem, servername: "pgbouncer.internal" },
            });
        } catch (err) {
            failed("login", `stack receiver ${id}`, err);
            return;
        }
        try {
            for (let n = 0; !stopped(); n++) {
                try {
                    await client.query(STACK_RECEIVER_INSERT, ["new", `new-${id}-${n}`, JSON.stringify({ id, n })]);
                    counts.stackInserts++;
                } catch (err) {
                    failed("insert", `stack receiver ${id}`, err);
                }
                await sleep(PAUSE_MS);
            }
        } finally {
            await endQuietly(client);
        }
    }

    /** `pulumi up`'s PostgreSQL half of a step: that step's rendered database.sql, as a superuser runs it. */
    const applyDatabaseSql = async (step: 1 | 3) => {
        const sql = renderTierFiles(steps[step], TEST_SECRETS, "canary")["database.sql"];
        await pg.psqlFile("deltacrown", sandbox.write(`database-step-${step}.sql`, sql, 0o600));
    };
    /** `npm run preflight` before a step: its cutover lines, as the admin over verify-full TLS. */
    const preflight = (step: 1 | 3, state: StackState, secret = TEST_SECRETS.legacyReceiverSecret) => {
        const admin: PostgresConnection = {
            host: pg.host,
            port: pg.port,
            user: pg.superuser,
            password: pg.superuserPassword,
            database: "deltacrown",
            sslmode: "verify-full",
            sslrootcert: postgresCa.certPem,
        };
        return cutoverChecks(steps[step], "canary", state, admin, secret);
    };
    const failures = (checks: Check[]) => checks.filter((c) => !c.passed).map((c) => c.name);
    /** After step 1 the stack's state holds every role it adopted or created. */
    const AFTER_STEP_1: StackState = { has: () => true };
    const stackFiles = (step: 1 | 3) => renderTierFiles(steps[step], TEST_SECRETS, "canary");
    const role = async () =>
        (
            await pg.query<{ login: boolean; create: boolean; owner: string }>(
                `SELECT r.rolcanlogin AS login, has_schema_privilege('webhook_receiver', 'webhook_receiver', 'CREATE') AS create,
                        (SELECT tableowner FROM pg_tables WHERE schemaname = 'webhook_receiver' AND tablename = 'webhook_events') AS owner
                   FROM pg_roles r WHERE r.rolname = 'webhook_receiver'`,
                "deltacrown",
            )
        )[0];

    beforeAll(async () => {
        pg = await startPostgres({
            sandbox,
            maxConnections: steps[1].postgres.maxConnections,
            superuserReservedConnections: steps[1].postgres.superuserReservedConnections,
            // The runbook's server: md5 in pg_hba (an md5-stored password logs in, SCRAM-stored ones use SCRAM).
            hostAuthMethod: "md5",
            settings: {
                ssl: "on",
                ssl_cert_file: `'${sandbox.write("postgres.crt", postgresCert.certPem, 0o644)}'`,
                ssl_key_file: `'${sandbox.write("postgres.key", postgresCert.keyPem, 0o600)}'`,
            },
        });
        await pg.createDatabase("deltacrown");
        const legacySecret = TEST_SECRETS.legacyReceiverSecret as string;
        // By hand, as the runbook did (and the schema the old receiver creates its table in).
        await pg.query(
            `CREATE ROLE webhook_receiver LOGIN PASSWORD '${legacySecret}';
             ALTER ROLE webhook_receiver SET statement_timeout = '5s';
             ALTER DATABASE deltacrown SET statement_timeout = '5s';
             CREATE SCHEMA webhook_receiver AUTHORIZATION webhook_receiver;`,
            "deltacrown",
        );
        handMade = await startPgbouncer({
            ini: RUNBOOK_PGBOUNCER_INI,
            userlist: `"webhook_receiver" "${legacySecret}"\n`,
            serverHost: pg.host,
            serverPort: pg.port,
            sandbox: bouncerSandboxes[0] as Sandbox,
        });
        pgbouncerInternal = () => handMade;
    });

    afterAll(async () => {
        await stack?.stop();
        await handMade?.stop();
        await pg?.stop();
        for (const dir of [sandbox, ...bouncerSandboxes]) dir.remove();
    });

    it("moves 50 inserting old receivers through every documented step with no failed insert or login, and ends with webhook_receiver refused", async () => {
        let sendersMoved = 0;
        let stopped = false;
        const stackLoad: Promise<void>[] = [];
        const legacyLoad = Array.from({ length: LEGACY_CLIENTS }, (_, id) =>
            legacyReceiver(id, () => id < sendersMoved).then(() => {
                // The sender slice this receiver served now reaches one of the stack's.
                if (!stopped) stackLoad.push(stackReceiver(id, () => stopped));
            }),
        );
        const sampler = setInterval(() => {
            pg.query<{ n: number }>(
                "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND usename <> 'postgres'",
            )
                .then((rows) => (maxServerSessions = Math.max(maxServerSessions, rows[0]?.n ?? 0)))
                .catch(() => undefined);
        }, 200);
        try {
            await sleep(1500);
            expect(counts.legacyInserts.get("hand-made") ?? 0).toBeGreaterThan(0);

            // Preflight before step 1 proves the stack's copy of the hand-made secret logs in as webhook_receiver.
            const step1Checks = await preflight(1, NO_STATE);
            expect(failures(step1Checks)).toEqual([]);
            expect(step1Checks.map((c) => c.name)).toEqual([
                expect.stringMatching(/^cutover step 1 of 3 \(takeover\): pulumi up: webhook_receiver keeps LOGIN/),
                "receiver-tier:legacyReceiverSecret logs in to PostgreSQL as webhook_receiver: the stack's PgBouncer accepts the hand-made receivers' password",
            ]);
            const wrong = await preflight(1, NO_STATE, md5Secret("webhook_receiver", "not-the-hand-made-password"));
            expect(failures(wrong)).toEqual([
                expect.stringMatching(
                    /^receiver-tier:legacyReceiverSecret does not log in to PostgreSQL as webhook_receiver \(.*password authentication failed/,
                ),
            ]);

            // Step 1, `pulumi up`: the roles and the table's owner first, then the stack's PgBouncer fleet.
            await applyDatabaseSql(1);
            expect(await role()).toEqual({ login: true, create: true, owner: "webhook_receiver_owner" });
            const files = stackFiles(1);
            stack = await startPgbouncer({
                ini: files["pgbouncer.ini"],
                userlist: files["userlist.txt"],
                serverHost: pg.host,
                serverPort: pg.port,
                sandbox: bouncerSandboxes[1] as Sandbox,
                files: {
                    [HOST_PATHS.pgbouncerTlsCert]: pgbouncerCert.certPem,
                    [HOST_PATHS.pgbouncerTlsKey]: pgbouncerCert.keyPem,
                    [HOST_PATHS.postgresCa]: postgresCa.certPem,
                },
            });
            // The host's readiness check (a login through its own PgBouncer reaching PostgreSQL), then
            // pgbouncer.internal moves: the alias record waits for the group's hosts in service.
            const ready = await connectPg(stack, {
                user: "webhook_receiver_a",
                password: TEST_SECRETS.receiverPasswordA,
                database: "deltacrown_receiver",
                ssl: { ca: pgbouncerCa.certPem, servername: "pgbouncer.internal" },
            });
            await ready.query("SELECT 1");
            await endQuietly(ready);
            pgbouncerInternal = () => stack as PgbouncerProcess;
            // The stack's receivers come up after the record moved, beside the old ones.
            for (let id = LEGACY_CLIENTS; id < LEGACY_CLIENTS + 5; id++) stackLoad.push(stackReceiver(id, () => stopped));
            for (const deadline = Date.now() + 15_000; (connectedTo.get(handMade.port) ?? 0) > 0 && Date.now() < deadline;)
                await sleep(100);
            expect(connectedTo.get(handMade.port) ?? 0).toBe(0);
            await sleep(1000);
            expect(counts.legacyInserts.get("stack") ?? 0).toBeGreaterThan(0);

            // Step 2: the senders move to the stack's receivers, old receiver after old receiver; then the
            // hand-made PgBouncer, without clients since the record moved, stops.
            for (; sendersMoved < LEGACY_CLIENTS; sendersMoved++) await sleep(30);
            await Promise.all(legacyLoad);
            await handMade.stop();
            // Preflight before step 3 refuses while sessions as webhook_receiver were used within server_idle_timeout,
            // and passes once they were not (PgBouncer keeps up to min_pool_size of them idle: harmless, not counted).
            expect(failures(await preflight(3, AFTER_STEP_1))).toEqual([
                expect.stringMatching(
                    /^cutover step 3 of 3 \(retire\): pulumi up turns webhook_receiver's LOGIN off, but \d+ session\(s\) logged in as it were used in the last 30 s \(127\.0\.0\.1 x \d+\)/,
                ),
            ]);
            let retireChecks = await preflight(3, AFTER_STEP_1);
            for (
                const deadline = Date.now() + (steps[1].pgbouncer.settings.server_idle_timeout + 15) * 1000;
                failures(retireChecks).length > 0 && Date.now() < deadline;
            ) {
                await sleep(1000);
                retireChecks = await preflight(3, AFTER_STEP_1);
            }
            expect(retireChecks.map((c) => [c.passed, c.name])).toEqual([
                [
                    true,
                    "cutover step 3 of 3 (retire): pulumi up: webhook_receiver NOLOGIN (refused by PostgreSQL) and gone from the stack's userlist; no session used it in the last 30 s",
                ],
            ]);

            // Step 3, `pulumi up` without the cutover block: the login closes, and the stack's PgBouncer drops
            // it at its next poll (the new files and a reload).
            await applyDatabaseSql(3);
            expect(await role()).toEqual({ login: false, create: false, owner: "webhook_receiver_owner" });
            const retired = stackFiles(3);
            await stack.reload(retired["pgbouncer.ini"], retired["userlist.txt"]);
            const beforeReload = counts.stackInserts;
            await sleep(2000);
            // The stack's receivers keep inserting through the reloaded PgBouncer (SCRAM again for everyone).
            expect(counts.stackInserts).toBeGreaterThan(beforeReload);
        } finally {
            stopped = true;
            sendersMoved = LEGACY_CLIENTS;
            clearInterval(sampler);
            await Promise.all(legacyLoad);
            await Promise.all(stackLoad);
        }

        expect(counts.errors.slice(0, 5)).toEqual([]);
        expect(counts).toMatchObject({ failedInserts: 0, failedLogins: 0 });
        expect(stackLoad.length).toBe(LEGACY_CLIENTS + 5);
        const stored = await pg.query<{ source: string; n: number }>(
            "SELECT source, count(*)::int AS n FROM webhook_receiver.webhook_events GROUP BY 1 ORDER BY 1",
            "deltacrown",
        );
        const legacyTotal = [...counts.legacyInserts.values()].reduce((a, b) => a + b, 0);
        expect(stored).toEqual([
            { source: "new", n: counts.stackInserts },
            { source: "old", n: legacyTotal },
        ]);
        expect(maxServerSessions).toBeLessThanOrEqual(postgresBudget(steps[1]));

        // The hand-made login is refused everywhere: PostgreSQL closed it, the stack's PgBouncer no longer knows it.
        const secure = { rejectUnauthorized: false };
        await expect(connectPg(stack as PgbouncerProcess, { ...LEGACY, database: "deltacrown_receiver", ssl: secure })).rejects.toThrow();
        await expect(connectPg(pg, { ...LEGACY, database: "deltacrown", ssl: secure })).rejects.toThrow(/not permitted to log in/);
    });
});
