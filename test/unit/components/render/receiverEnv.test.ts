import { describe, expect, it } from "vitest";
import { renderReceiverEnv, renderReceiverSecretsEnv } from "../../../../components/render/receiverEnv";
import { parseEnvFile } from "../../support/fileParsers";
import { loadCanary, loadCanaryWith, TEST_SECRETS } from "../../support/stackConfig";

describe("receiver.env for the canary stack", () => {
    const text = renderReceiverEnv(loadCanary(), "canary");
    const env = parseEnvFile(text);

    it("connects through PgBouncer: its DNS name, port 6432 and the [databases] alias, not PostgreSQL's name", () => {
        expect(env).toMatchObject({
            DB_HOST: "pgbouncer.internal",
            DB_PORT: "6432",
            DB_NAME: "deltacrown_receiver",
            DB_USER: "webhook_receiver_a",
            DB_SCHEMA: "webhook_receiver",
        });
        expect(env.DB_NAME).not.toBe("deltacrown");
    });

    it("sizes the per-worker pool to one connection per gthread thread (mistake 7), keeping the runbook's recycle and timeout", () => {
        expect(env).toMatchObject({
            DB_CONN_MAX: "32",
            DB_CONN_MIN: "1",
            DB_CONN_MAX_OVERFLOW: "0",
            DB_CONN_RECYCLE: "30",
            DB_CONN_TIMEOUT: "3",
            SQLALCHEMY_POOL_SIZE: "32",
            SQLALCHEMY_MAX_OVERFLOW: "0",
            SQLALCHEMY_POOL_RECYCLE: "30",
            SQLALCHEMY_POOL_PRE_PING: "true",
        });
    });

    it("turns off server-side cursors under transaction pooling (mistake 6)", () => {
        expect(env.DISABLE_SERVER_SIDE_CURSORS).toBe("true");
    });

    it("holds no password, and never tells the app to send a startup 'options' statement_timeout (mistake 1)", () => {
        expect(Object.keys(env).filter((key) => /PASSWORD|SECRET/.test(key))).toEqual([]);
        for (const password of Object.values(TEST_SECRETS)) expect(text).not.toContain(password);
        expect(text).not.toMatch(/statement_timeout|options/i);
    });

    it("names the stats user for the health check's SHOW POOLS", () => {
        expect(env).toMatchObject({
            PGBOUNCER_STATS_USER: "pgbouncer_stats_a",
            PGBOUNCER_ADMIN_DB: "pgbouncer",
            HEALTH_PATH: "/webhooks/health",
        });
    });

    it("tells the app how senders sign and identify deliveries, and how long to ask them to wait", () => {
        expect(env).toMatchObject({
            WEBHOOK_DELIVERY_ID_HEADER: "X-Webhook-Delivery-Id",
            WEBHOOK_SIGNATURE_HEADER: "X-Webhook-Signature",
            WEBHOOK_TIMESTAMP_HEADER: "X-Webhook-Timestamp",
            WEBHOOK_REPLAY_WINDOW_SECONDS: "300",
            WEBHOOK_MAX_BODY_BYTES: "1048576",
            WEBHOOK_RETRY_AFTER_SECONDS: "5",
        });
    });
});

describe("secrets.env", () => {
    it("carries the active logins' passwords and the webhook signing secret, and nothing else", () => {
        const env = parseEnvFile(renderReceiverSecretsEnv(loadCanary(), TEST_SECRETS));
        expect(env).toEqual({
            DB_PASSWORD: TEST_SECRETS.receiverPasswordA,
            PGBOUNCER_STATS_PASSWORD: TEST_SECRETS.statsPasswordA,
            WEBHOOK_SIGNING_SECRET: TEST_SECRETS.webhookSigningSecret,
        });
    });
});

describe("receiver.env follows the config", () => {
    it("renames the delivery id header when the stack does", () => {
        const env = parseEnvFile(renderReceiverEnv(loadCanaryWith(["receiver.webhooks.deliveryIdHeader", "Idempotency-Key"]), "canary"));
        expect(env.WEBHOOK_DELIVERY_ID_HEADER).toBe("Idempotency-Key");
    });

    it("passes the runbook's pool sizes through when a stack chooses them", () => {
        const env = parseEnvFile(
            renderReceiverEnv(
                loadCanaryWith(["receiver.dbPool.max", 25], ["receiver.dbPool.min", 5], ["receiver.dbPool.maxOverflow", 10]),
                "canary",
            ),
        );
        expect(env).toMatchObject({
            DB_CONN_MAX: "25",
            DB_CONN_MIN: "5",
            DB_CONN_MAX_OVERFLOW: "10",
            SQLALCHEMY_POOL_SIZE: "25",
            SQLALCHEMY_MAX_OVERFLOW: "10",
        });
    });

    it("keeps server-side cursors on in session pooling", () => {
        expect(
            parseEnvFile(renderReceiverEnv(loadCanaryWith(["pgbouncer.settings.pool_mode", "session"]), "canary"))
                .DISABLE_SERVER_SIDE_CURSORS,
        ).toBe("false");
    });
});
