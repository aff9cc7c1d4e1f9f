import { CONFIG_NAMESPACE, CUTOVER_SECRET_KEY, KNOWN_SECRET_KEYS, SECRET_KEYS, StackSecrets } from "../components/schema/schema";
import { checkPulumiConfigKeys, lookupSecret, readStackFile } from "../components/config/stackFile";

/** Namespaced secret keys, as the engine marks them. */
export const SECRET_CONFIG_KEYS = KNOWN_SECRET_KEYS.map((key) => `${CONFIG_NAMESPACE}:${key}`);

/** A stack's config as the Pulumi SDK hands it to the program (objects as JSON text), with the given secrets set. */
export function engineConfig(all: Record<string, unknown>, secrets: StackSecrets): Record<string, string> {
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(all)) config[key] = typeof value === "string" ? value : JSON.stringify(value);
    for (const key of SECRET_KEYS) config[`${CONFIG_NAMESPACE}:${key}`] = secrets[key];
    const legacy = secrets[CUTOVER_SECRET_KEY];
    if (legacy !== undefined) config[`${CONFIG_NAMESPACE}:${CUTOVER_SECRET_KEY}`] = legacy;
    return config;
}

/**
 * Secrets for an offline plan: the real ones where PULUMI_CONFIG or the stack file has them,
 * else a placeholder. The plan masks every secret, so the placeholder never shows.
 */
export function planSecrets(projectDir: string, stack: string, env: NodeJS.ProcessEnv): StackSecrets {
    checkPulumiConfigKeys(env, stack);
    const stackFile = readStackFile(projectDir, stack);
    const entries = SECRET_KEYS.map((key) => {
        const found = lookupSecret(stackFile, stack, key, env);
        return [key, "value" in found ? found.value : `plan-placeholder-${key}`] as const;
    });
    const legacy = lookupSecret(stackFile, stack, CUTOVER_SECRET_KEY, env);
    // Pre-hashed like the real one (the renderer refuses anything else); unused by a stack without the cutover block.
    const legacySecret = "value" in legacy ? legacy.value : `md5${"0".repeat(32)}`;
    return { ...(Object.fromEntries(entries) as StackSecrets), [CUTOVER_SECRET_KEY]: legacySecret };
}

/** A stack's config for the mocked engine: the stack file's, with the secrets an offline plan has (planSecrets). */
export function planConfig(projectDir: string, stack: string, env: NodeJS.ProcessEnv): Record<string, string> {
    return engineConfig(readStackFile(projectDir, stack).all, planSecrets(projectDir, stack, env));
}
