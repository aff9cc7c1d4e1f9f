import { parseTierConfig } from "../components/config/load";
import { LoginPair, loginPassword } from "../components/model/logins";
import { TierConfig, TierSecrets } from "../components/schema/schema";
import { readStackFile } from "../components/config/stackFile";
import { renderReceiverSecretsEnv } from "../components/render/receiverEnv";
import { WebhookSigning } from "./clients";
import { parseEnvFile } from "./gunicorn";
import { TEST_SECRETS } from "./testSecrets";

import { PROJECT_DIR } from "../runtime/projectDir";

export { TEST_SECRETS } from "./testSecrets";

/** Raw stack config (keys without namespace), as in Pulumi.<stack>.yaml. */
export type RawConfig = { [key: string]: unknown };

const isPlainObject = (value: unknown): value is RawConfig => typeof value === "object" && value !== null && !Array.isArray(value);

/** Deep merge: objects merge key by key, anything else (arrays too) replaces. */
export function mergeConfig(base: RawConfig, overrides: RawConfig): RawConfig {
    const out: RawConfig = { ...base };
    for (const [key, value] of Object.entries(overrides)) {
        const current = out[key];
        out[key] = isPlainObject(current) && isPlainObject(value) ? mergeConfig(current, value) : value;
    }
    return out;
}

/**
 * A real stack's config (default `local`) with test overrides merged in, validated by the same
 * schema and cross-field rules as `pulumi up` (throws ConfigError when the overrides break a rule).
 */
export function loadTierConfig(stack = "local", overrides: RawConfig = {}): TierConfig {
    const { raw } = readStackFile(PROJECT_DIR, stack);
    return parseTierConfig(mergeConfig(raw, overrides)).config;
}

/** User and password of a login pair's active login (receiverLogins / statsLogins) with the test secrets. */
export function activeLogin(pair: LoginPair, secrets: TierSecrets = TEST_SECRETS): { user: string; password: string } {
    return { user: pair.active.name, password: loginPassword(secrets, pair.active) };
}

/** The receiver's secrets.env as the stack renders it, as environment variables. */
export function receiverSecretEnv(cfg: TierConfig, secrets: TierSecrets = TEST_SECRETS): Record<string, string> {
    return parseEnvFile(renderReceiverSecretsEnv(cfg, secrets));
}

/** How the stack's senders sign webhooks for this config and these secrets. */
export function webhookSigning(cfg: TierConfig, secrets: TierSecrets = TEST_SECRETS): WebhookSigning {
    const { deliveryIdHeader, signatureHeader, timestampHeader } = cfg.receiver.webhooks;
    return { secret: secrets.webhookSigningSecret, deliveryIdHeader, signatureHeader, timestampHeader };
}
