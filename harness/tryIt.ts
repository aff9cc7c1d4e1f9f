import { receiverLogins, statsLogins } from "../components/model/logins";
import { LocalStackOutputs } from "../components/model/outputs";
import { CONFIG_NAMESPACE, TierConfig, TierSecrets } from "../components/schema/schema";

/** Laid out as `pulumi stack output` prints them: sorted by name, structured values as JSON. */
export function formatStackOutputs(outputs: LocalStackOutputs): string {
    const entries = Object.entries(outputs).sort(([a], [b]) => a.localeCompare(b));
    const width = Math.max("OUTPUT".length, ...entries.map(([name]) => name.length)) + 2;
    return [
        `Current stack outputs (${entries.length}):`,
        `    ${"OUTPUT".padEnd(width)}VALUE`,
        ...entries.map(([name, value]) => `    ${name.padEnd(width)}${typeof value === "string" ? value : JSON.stringify(value)}`),
    ].join("\n");
}

/** The reference receiver's webhook route is POST /webhooks/<source> (files/receiver/webhook_receiver.py). */
const SAMPLE_SOURCE = "local-demo";
const SAMPLE_PAYLOAD = JSON.stringify({ event: "order.created", order_id: 42 });

/** Where a psql user finds a password: its key in the local stack file (development-only values). */
const secretHint = (key: keyof TierSecrets) => `${CONFIG_NAMESPACE}:${key} in Pulumi.local.yaml`;

/** The shell expression that reads the local stack's signing secret from its file when the command runs (never printed). */
const LOCAL_SIGNING_SECRET = `$(sed -n 's/^  ${CONFIG_NAMESPACE}:webhookSigningSecret: *//p' Pulumi.local.yaml)`;

/**
 * A signed sample delivery, as a sender makes it: HMAC-SHA256 of "<timestamp>.<delivery id>.<source>.<body>"
 * with the signing secret that `secret` (a shell word) yields.
 */
export function signedPostCommand(cfg: TierConfig, origin: string, source: string, secret: string): string {
    const { deliveryIdHeader, timestampHeader, signatureHeader } = cfg.receiver.webhooks;
    const signature = `$(printf '%s.%s.%s.%s' "$TS" "$ID" '${source}' '${SAMPLE_PAYLOAD}' | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)`;
    return [
        `TS=$(date +%s) ID=demo-$(date +%s%N) SECRET=${secret};`,
        `curl -sS -X POST -H 'Content-Type: application/json' -H "${deliveryIdHeader}: $ID" -H "${timestampHeader}: $TS"`,
        `-H "${signatureHeader}: sha256=${signature}" -d '${SAMPLE_PAYLOAD}' ${origin}/webhooks/${source}`,
    ].join(" ");
}

/** Commands to try the running tier, each runnable as printed (from the project directory). */
export function tryItCommands(cfg: TierConfig, outputs: LocalStackOutputs, verifyCommand: string): string[] {
    const origin = new URL(outputs.healthUrl).origin;
    const [host, port] = outputs.pgbouncerEndpoint.split(":") as [string, string];
    const login = receiverLogins(cfg).active;
    const stats = statsLogins(cfg).active;
    // database.sql creates webhook_events in the schema named after the receivers' group role.
    const readBack = `SELECT id, source, payload, received_at FROM ${cfg.receiverRole.name}.webhook_events ORDER BY id DESC LIMIT 5;`;
    return [
        `curl -sS ${outputs.healthUrl}`,
        signedPostCommand(cfg, origin, SAMPLE_SOURCE, LOCAL_SIGNING_SECRET),
        `psql -h ${host} -p ${port} -U ${login.name} -d ${cfg.pgbouncer.databaseAlias} -c "${readBack}"`,
        outputs.showPoolsCommand,
        verifyCommand,
        `(psql asks for the password: ${login.name} has ${secretHint(login.passwordKey)}, ${stats.name} has ${secretHint(stats.passwordKey)}; or export PGPASSWORD)`,
    ];
}
