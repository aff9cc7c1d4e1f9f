import * as pulumi from "@pulumi/pulumi";
import { LoadedConfig, parseTierConfig, projectConfig } from "./load";
import { CONFIG_NAMESPACE, SECRET_KEYS, SecretKey } from "./schema";

/** The stack's validated config, read from the Pulumi engine before any resource exists. */
export function loadPulumiConfig(): LoadedConfig {
    return parseTierConfig(projectConfig(pulumi.runtime.allConfig()));
}

/** Every secret of the tier, as Pulumi secrets; one error naming all that are missing. */
export function loadPulumiSecrets(): pulumi.Output<Record<SecretKey, string>> {
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    const found = SECRET_KEYS.map((key) => [key, config.getSecret(key)] as const);
    const missing = found.filter(([, value]) => value === undefined).map(([key]) => `${CONFIG_NAMESPACE}:${key}`);
    if (missing.length > 0) {
        throw new Error(`missing secrets: ${missing.join(", ")}; set each with \`pulumi config set --secret <key>\``);
    }
    const values = found.map(([, value]) => value as pulumi.Output<string>);
    return pulumi.secret(
        pulumi
            .all(values)
            .apply((plain) => Object.fromEntries(SECRET_KEYS.map((key, index) => [key, plain[index]])) as Record<SecretKey, string>),
    );
}
