import { CONFIG_NAMESPACE, SECRET_KEYS, SecretKey } from "../../components/config/schema";
import { checkPulumiConfigKeys, lookupSecret, readStackFile } from "../../components/config/stackFile";

/** Namespaced secret keys, as the engine marks them. */
export const SECRET_CONFIG_KEYS = SECRET_KEYS.map((key) => `${CONFIG_NAMESPACE}:${key}`);

/**
 * A stack's config as the Pulumi SDK hands it to the program (objects as JSON text), with the
 * project's keys passed through `edit` first and the given secrets set.
 */
export function engineConfig(
    all: Record<string, unknown>,
    secrets: Record<SecretKey, string>,
    edit: (raw: Record<string, unknown>) => void = () => undefined,
): Record<string, string> {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const raw: Record<string, unknown> = {};
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(structuredClone(all))) {
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
        else config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    edit(raw);
    for (const [key, value] of Object.entries(raw)) config[prefix + key] = typeof value === "string" ? value : JSON.stringify(value);
    for (const key of SECRET_KEYS) config[prefix + key] = secrets[key];
    return config;
}

/**
 * Secrets for an offline plan: the real ones where PULUMI_CONFIG or the stack file has them,
 * else a placeholder. The plan masks every secret, so the placeholder never shows.
 */
export function planSecrets(projectDir: string, stack: string, env: NodeJS.ProcessEnv): Record<SecretKey, string> {
    checkPulumiConfigKeys(env, stack);
    const stackFile = readStackFile(projectDir, stack);
    const entries = SECRET_KEYS.map((key) => {
        const found = lookupSecret(stackFile, stack, key, env);
        return [key, "value" in found ? found.value : `plan-placeholder-${key}`] as const;
    });
    return Object.fromEntries(entries) as Record<SecretKey, string>;
}
