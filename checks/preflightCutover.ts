import { createHash } from "crypto";
import { Client, ClientConfig } from "pg";
import { clientConfig, PostgresConnection } from "../components/postgres/databaseSetting";
import { CUTOVER_STEPS, CutoverStep, legacyLoginName } from "../components/model/cutover";
import { RESOURCE_NAMES, RESOURCE_TYPES } from "../components/model/resources";
import { CONFIG_NAMESPACE, CUTOVER_SECRET_KEY, TierConfig } from "../components/schema/schema";
import { Check, fail, pass, reason } from "./result";
import { StackState } from "./stackState";

// Preflight's view of the cutover from the hand-made canary (README "First deploy into an existing environment"):
// which step the stack file is at, what `pulumi up` changes for the hand-made login, and what would fail that step.

/** The legacy login in PostgreSQL: whether it logs in, and the sessions logged in as it now. */
export interface LegacyLoginFacts {
    /** undefined: no such role. */
    readonly login: boolean | undefined;
    /**
     * Sessions a client used within the window, per client address (null: hidden from an admin without
     * pg_read_all_stats, whose sessions count as used). PgBouncer keeps up to min_pool_size idle server
     * connections of a user nobody uses any more until server_lifetime: those are not counted.
     */
    readonly sessions: readonly { readonly address: string | null; readonly count: number }[];
    /** The window: seconds a session must have been idle to count as unused (server_idle_timeout). */
    readonly idleSeconds: number;
}

const stepName = (step: CutoverStep) => `cutover step ${step.number} of ${CUTOVER_STEPS.length} (${step.name})`;
const step = (name: string) => CUTOVER_STEPS.find((s) => s.name === name) as CutoverStep;

export async function legacyLoginFacts(client: Client, name: string, idleSeconds: number): Promise<LegacyLoginFacts> {
    const role = await client.query<{ login: boolean }>("SELECT rolcanlogin AS login FROM pg_roles WHERE rolname = $1", [name]);
    const sessions = await client.query<{ address: string | null; count: number }>(
        `SELECT host(client_addr) AS address, count(*)::int AS count FROM pg_stat_activity
          WHERE usename = $1 AND (state IS DISTINCT FROM 'idle' OR state_change > now() - make_interval(secs => $2))
          GROUP BY 1 ORDER BY 1`,
        [name, idleSeconds],
    );
    return { login: role.rows[0]?.login, sessions: sessions.rows, idleSeconds };
}

/**
 * What preflight says about the cutover, from the stack file (the block there or not), the stack's state and the
 * database: nothing at all for a stack that has no hand-made login to cut over from.
 */
export function cutoverStepChecks(cfg: TierConfig, stack: string, state: StackState, facts: LegacyLoginFacts): Check[] {
    const name = legacyLoginName(cfg);
    if (cfg.cutover !== undefined) {
        const takeover = step("takeover");
        if (facts.login === undefined)
            return [
                fail(
                    `${stepName(takeover)}: the hand-made login ${name} does not exist; nothing to cut over from, remove receiver-tier:cutover`,
                ),
            ];
        if (!facts.login)
            return [
                fail(
                    `${stepName(takeover)}: ${name} is NOLOGIN already (the cutover is over); the block would turn its LOGIN back on, remove receiver-tier:cutover`,
                ),
            ];
        return [pass(`${stepName(takeover)}: pulumi up: ${name} ${takeover.legacyLogin}`)];
    }
    const ownRole = state.has(RESOURCE_TYPES.role, RESOURCE_NAMES.role(RESOURCE_NAMES.postgresSettings(stack), name));
    // A LOGIN group role the stack does not hold yet is a first deploy: the adoption check refuses it.
    if (!ownRole || facts.login !== true) return [];
    const retire = step("retire");
    const sessions = facts.sessions.reduce((sum, s) => sum + s.count, 0);
    if (sessions === 0) {
        return [
            pass(`${stepName(retire)}: pulumi up: ${name} ${retire.legacyLogin}; no session used it in the last ${facts.idleSeconds} s`),
        ];
    }
    const from = facts.sessions.map((s) => `${s.address ?? "(address hidden)"} x ${s.count}`).join(", ");
    return [
        fail(
            `${stepName(retire)}: pulumi up turns ${name}'s LOGIN off, but ${sessions} session(s) logged in as it were used in the last ${facts.idleSeconds} s (${from}): finish step 2 (senders moved, hand-made receivers and PgBouncer stopped)`,
        ),
    ];
}

/**
 * A client that answers PostgreSQL's md5 challenge from a stored md5 secret, as PgBouncer does with an md5
 * userlist entry: it proves the secret is the role's password without anybody knowing the password.
 */
class Md5SecretClient extends Client {
    constructor(
        config: ClientConfig,
        private readonly secret: string,
    ) {
        super(config);
    }

    // Overrides node-postgres' handler of AuthenticationMD5Password (it hashes a plaintext password there).
    _handleAuthMD5Password(msg: { salt: Buffer }): void {
        const digest = createHash("md5")
            .update(Buffer.concat([Buffer.from(this.secret.slice("md5".length)), msg.salt]))
            .digest("hex");
        (this as unknown as { connection: { password(text: string): void } }).connection.password(`md5${digest}`);
    }
}

/** Whether the stack's PgBouncer, holding `secret`, will log in to PostgreSQL as the hand-made login. */
export async function legacySecretCheck(cfg: TierConfig, conn: PostgresConnection, secret: string | undefined): Promise<Check> {
    const name = legacyLoginName(cfg);
    const key = `${CONFIG_NAMESPACE}:${CUTOVER_SECRET_KEY}`;
    if (secret === undefined) return fail(`${key} is not set: the stack's PgBouncer could not accept the hand-made receivers as ${name}`);
    if (!secret.startsWith("md5"))
        return pass(`${key} is a SCRAM verifier: PgBouncer logs in with the client's own proof (not checked here)`);
    // Never the password: if PostgreSQL asks for SCRAM instead, this fails rather than send anything usable.
    const client = new Md5SecretClient({ ...clientConfig(conn), user: name, password: "not-a-password" }, secret);
    client.on("error", () => undefined);
    try {
        await client.connect();
        return pass(`${key} logs in to PostgreSQL as ${name}: the stack's PgBouncer accepts the hand-made receivers' password`);
    } catch (err) {
        return fail(
            `${key} does not log in to PostgreSQL as ${name} (${reason(err)}): copy the secret from the hand-made userlist.txt, or the hand-made receivers fail once pgbouncer.dnsName moves`,
        );
    } finally {
        await client.end().catch(() => undefined);
    }
}

/** Preflight's cutover lines: the step, and in step 1 whether the stack's copy of the hand-made secret logs in. */
export async function cutoverChecks(
    cfg: TierConfig,
    stack: string,
    state: StackState,
    conn: PostgresConnection,
    legacySecret: string | undefined,
): Promise<Check[]> {
    const client = new Client(clientConfig(conn));
    client.on("error", () => undefined);
    let facts: LegacyLoginFacts;
    try {
        await client.connect();
        facts = await legacyLoginFacts(client, legacyLoginName(cfg), cfg.pgbouncer.settings.server_idle_timeout);
    } catch {
        // The database checks report an unreachable database already.
        return [];
    } finally {
        await client.end().catch(() => undefined);
    }
    const checks = cutoverStepChecks(cfg, stack, state, facts);
    if (cfg.cutover !== undefined && facts.login === true) checks.push(await legacySecretCheck(cfg, conn, legacySecret));
    return checks;
}
