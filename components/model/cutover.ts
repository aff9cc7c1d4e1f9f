import { CONFIG_NAMESPACE, CUTOVER_SECRET_KEY, SchemaConfig, TierSecrets } from "../schema/schema";

// The cutover from the hand-made canary (README "First deploy into an existing environment"). The runbook's
// `webhook_receiver` is a LOGIN role with an md5 password that hand-made receivers and a hand-made PgBouncer use;
// the stack's `webhook_receiver` is the receivers' group role. While the `cutover` block is in the stack file the
// two are one role: the group keeps its LOGIN and its own password (the stack sets neither), the stack's PgBouncer
// accepts it beside the stack's logins, and the hand-made pool counts against PostgreSQL's budget. Removing the
// block, once nothing logs in as it any more, makes it the NOLOGIN group role it is everywhere else.

/** One step of the documented procedure. */
export interface CutoverStep {
    readonly number: number;
    readonly name: string;
    /** What the operator does. */
    readonly action: string;
    /** What it changes for the legacy login. */
    readonly legacyLogin: string;
}

export const CUTOVER_STEPS: readonly CutoverStep[] = [
    {
        number: 1,
        name: "takeover",
        action: `pulumi up with the ${CONFIG_NAMESPACE}:cutover block (Pulumi.canary.yaml as shipped)`,
        legacyLogin:
            "keeps LOGIN and its own password (the stack sets neither) and CREATE on its schema; the stack's PgBouncer accepts it, and pgbouncer.dnsName moves to the stack's NLB once its hosts are in service",
    },
    {
        number: 2,
        name: "senders",
        action: "no config change: point the senders at receiver.domain, then stop the hand-made receivers and the hand-made PgBouncer",
        legacyLogin: "its clients go away",
    },
    {
        number: 3,
        name: "retire",
        action: `remove the cutover block and ${CONFIG_NAMESPACE}:${CUTOVER_SECRET_KEY}, pulumi up`,
        legacyLogin: "NOLOGIN (refused by PostgreSQL) and gone from the stack's userlist",
    },
];

/** True while the hand-made `webhook_receiver` still logs in (the cutover block is there). */
export function legacyLoginLive(cfg: Pick<SchemaConfig, "cutover">): boolean {
    return cfg.cutover !== undefined;
}

/** The hand-made login: the receivers' group role's own name. */
export function legacyLoginName(cfg: Pick<SchemaConfig, "receiverRole">): string {
    return cfg.receiverRole.name;
}

/** What a hand-made userlist.txt holds for a login: an md5 secret or a SCRAM verifier, never a plaintext password. */
const PRE_HASHED = /^(md5[0-9a-f]{32}|SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+)$/;

/**
 * The legacy login's secret for the stack's userlist, while the cutover runs; throws naming the key when it is
 * missing or not pre-hashed (a plaintext password there would sit in the stack's state and on every host).
 */
export function legacyLoginSecret(cfg: Pick<SchemaConfig, "cutover" | "receiverRole">, secrets: TierSecrets): string | undefined {
    if (!legacyLoginLive(cfg)) return undefined;
    const key = `${CONFIG_NAMESPACE}:${CUTOVER_SECRET_KEY}`;
    const secret = secrets[CUTOVER_SECRET_KEY];
    if (secret === undefined || secret === "") {
        throw new Error(
            `${key} is not set: the cutover block needs the hand-made ${legacyLoginName(cfg)}'s secret, the second field of its line in the hand-made userlist.txt (pulumi config set --secret ${key})`,
        );
    }
    if (!PRE_HASHED.test(secret)) {
        throw new Error(`${key} must be the pre-hashed secret of the hand-made userlist.txt (md5... or SCRAM-SHA-256$...), not a password`);
    }
    return secret;
}
