import * as pulumi from "@pulumi/pulumi";
import { LoadedConfig, parseTierConfig, projectConfig } from "./load";
import { namespaceProblems } from "./namespaces";
import { ConfigError } from "../schema/problems";
import { CONFIG_NAMESPACE, CUTOVER_SECRET_KEY, SECRET_KEYS, StackSecrets, TierConfig } from "../schema/schema";
import { weakSecretProblems } from "./secretStrength";

/**
 * The stack's validated config, read from the Pulumi engine before any resource exists: keys in
 * namespaces nothing reads are errors, and so are passwords too weak for the platform.
 */
export function loadPulumiConfig(): LoadedConfig {
    const all = pulumi.runtime.allConfig();
    const loaded = parseTierConfig(projectConfig(all), namespaceProblems(Object.keys(all)));
    const weak = weakSecretProblems(
        loaded.config.platform,
        Object.fromEntries(SECRET_KEYS.map((key) => [key, all[`${CONFIG_NAMESPACE}:${key}`]])),
    );
    if (weak.length > 0) throw new ConfigError(weak);
    return loaded;
}

/** Every secret of the tier (the cutover's while its block is there), as Pulumi secrets; one error naming all that are missing. */
export function loadPulumiSecrets(cfg: Pick<TierConfig, "cutover">): pulumi.Output<StackSecrets> {
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    const keys = cfg.cutover === undefined ? SECRET_KEYS : [...SECRET_KEYS, CUTOVER_SECRET_KEY];
    const found = keys.map((key) => [key, config.getSecret(key)] as const);
    const missing = found.filter(([, value]) => value === undefined).map(([key]) => `${CONFIG_NAMESPACE}:${key}`);
    if (missing.length > 0) {
        throw new Error(`missing secrets: ${missing.join(", ")}; set each with \`pulumi config set --secret <key>\``);
    }
    const values = found.map(([, value]) => value as pulumi.Output<string>);
    return pulumi.secret(
        pulumi.all(values).apply((plain) => Object.fromEntries(keys.map((key, index) => [key, plain[index]])) as StackSecrets),
    );
}
