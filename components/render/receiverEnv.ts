import { TierConfig, TierSecrets } from "../schema/schema";
import { renderEnvFile } from "./envFile";
import { HOST_PATHS } from "../model/hostPaths";
import { pgbouncerClientSslmode, pgbouncerServesTls } from "../model/tlsModes";
import { loginPassword, receiverLogins, statsLogins } from "../model/logins";
import { answerWithinSeconds, DB_KEEPALIVES, retryBudgetSeconds } from "../model/answerDeadline";

/**
 * receiver.env: what the receiver app reads. Secrets are not here: they arrive separately
 * (secrets.env: DB_PASSWORD, PGBOUNCER_STATS_PASSWORD, WEBHOOK_SIGNING_SECRET) from the secret store, so this file is not secret.
 */
export function renderReceiverEnv(cfg: TierConfig, stack: string): string {
    const pb = cfg.pgbouncer;
    const pool = cfg.receiver.dbPool;
    const hooks = cfg.receiver.webhooks;
    const vars: [string, string | number | boolean][] = [
        // Through PgBouncer the database name is its [databases] alias, not PostgreSQL's name.
        ["DB_HOST", pb.dnsName],
        ["DB_PORT", pb.port],
        ["DB_NAME", pb.databaseAlias],
        ["DB_USER", receiverLogins(cfg).active.name],
        // The group role's schema: both logins act as that role and share its tables.
        ["DB_SCHEMA", cfg.receiverRole.name],
        ["DB_SSLMODE", pgbouncerClientSslmode(cfg)],
        ...(pgbouncerServesTls(cfg) ? [["DB_SSLROOTCERT", HOST_PATHS.receiverPgbouncerCa] as [string, string]] : []),
        ["DB_CONN_MAX", pool.max],
        ["DB_CONN_MIN", pool.min],
        ["DB_CONN_RECYCLE", pool.recycle],
        ["DB_CONN_TIMEOUT", pool.timeout],
        ["DB_CONN_MAX_OVERFLOW", pool.maxOverflow],
        // libpq keepalives and tcp_user_timeout: a dead PgBouncer host or a cut network fails the connection.
        ["DB_KEEPALIVES_IDLE", DB_KEEPALIVES.idleSeconds],
        ["DB_KEEPALIVES_INTERVAL", DB_KEEPALIVES.intervalSeconds],
        ["DB_KEEPALIVES_COUNT", DB_KEEPALIVES.count],
        ["DB_TCP_USER_TIMEOUT_MS", answerWithinSeconds(cfg) * 1000],
        ["SQLALCHEMY_POOL_SIZE", pool.max],
        ["SQLALCHEMY_MAX_OVERFLOW", pool.maxOverflow],
        ["SQLALCHEMY_POOL_RECYCLE", pool.recycle],
        ["SQLALCHEMY_POOL_PRE_PING", pool.prePing],
        // Django: CONN_MAX_AGE and connect_timeout; server-side cursors break under transaction pooling.
        ["DJANGO_CONN_MAX_AGE", pool.recycle],
        ["DJANGO_CONNECT_TIMEOUT", pool.timeout],
        ["DISABLE_SERVER_SIDE_CURSORS", pb.settings.pool_mode === "transaction"],
        ["PGBOUNCER_STATS_USER", statsLogins(cfg).active.name],
        ["PGBOUNCER_ADMIN_DB", "pgbouncer"],
        ["HEALTH_PATH", cfg.receiver.healthPath],
        ["WEBHOOK_DELIVERY_ID_HEADER", hooks.deliveryIdHeader],
        ["WEBHOOK_SIGNATURE_HEADER", hooks.signatureHeader],
        ["WEBHOOK_TIMESTAMP_HEADER", hooks.timestampHeader],
        ["WEBHOOK_REPLAY_WINDOW_SECONDS", hooks.replayWindowSeconds],
        ["WEBHOOK_MAX_BODY_BYTES", hooks.maxBodyBytes],
        ["WEBHOOK_RETRY_AFTER_SECONDS", hooks.retryAfterSeconds],
        // Inside the sender's request timeout (sender.requestTimeoutSeconds, rule retryBudgetFitsSenderTimeout).
        ["WEBHOOK_ANSWER_WITHIN_SECONDS", answerWithinSeconds(cfg)],
        ["WEBHOOK_RETRY_BUDGET_SECONDS", retryBudgetSeconds(cfg)],
    ];
    return renderEnvFile(
        `receiver.env for receiver-tier stack "${stack}". Rendered from stack config; passwords come from the secret store.`,
        vars,
    );
}

/** secrets.env: the active logins' passwords and the senders' signing key, delivered through the secret store only. */
export function renderReceiverSecretsEnv(cfg: TierConfig, secrets: TierSecrets): string {
    return renderEnvFile("receiver secrets. Never commit, never put in user data.", [
        ["DB_PASSWORD", loginPassword(secrets, receiverLogins(cfg).active)],
        ["PGBOUNCER_STATS_PASSWORD", loginPassword(secrets, statsLogins(cfg).active)],
        ["WEBHOOK_SIGNING_SECRET", secrets.webhookSigningSecret],
    ]);
}
