// Stack config fixtures: the real canary stack file, edited one key at a time.
import { expect } from "vitest";
import { LoadedConfig, parseTierConfig } from "../../../components/config/load";
import { ConfigError, Problem } from "../../../components/schema/problems";
import { CONFIG_NAMESPACE, TierConfig } from "../../../components/schema/schema";
import { readStackFile } from "../../../components/config/stackFile";
import { TEST_SECRETS } from "../../../harness/testSecrets";
import { PROJECT_DIR } from "./projectDir";
import { Edit, edited, RETIRE_CUTOVER_EDITS } from "../../../harness/cutoverSteps";

export { edited, RETIRE_CUTOVER_EDITS };
export type { Edit };

export { PROJECT_DIR };

/** The harness's test passwords (harness/testSecrets.ts): md5 answers in the tests are computed from them. */
export { TEST_SECRETS };

/** PULUMI_CONFIG's JSON text for secrets given by their keys without namespace. */
export function pulumiConfigJson(secrets: Readonly<Record<string, string>>): string {
    return JSON.stringify(Object.fromEntries(Object.entries(secrets).map(([key, value]) => [`${CONFIG_NAMESPACE}:${key}`, value])));
}

export type RawConfig = Record<string, unknown>;

/** A fresh, editable copy of Pulumi.canary.yaml's project keys as shipped: cutover step 1 (secrets left out). */
export function shippedCanaryRaw(): RawConfig {
    return structuredClone(readStackFile(PROJECT_DIR, "canary").raw);
}

/**
 * Pulumi.canary.yaml once its cutover is over (step 3: no cutover block, no adopt entries, full pools): the
 * canary's steady state, which every test but the cutover's starts from.
 */
export function canaryRaw(): RawConfig {
    return edited(shippedCanaryRaw(), ...RETIRE_CUTOVER_EDITS);
}

/** The canary stack after its cutover, validated. */
export function loadCanary(): TierConfig {
    return parseTierConfig(canaryRaw()).config;
}

/** The canary stack with one edit (or several) applied and validated. */
export function loadCanaryWith(...edits: readonly Edit[]): TierConfig {
    return parseTierConfig(edited(canaryRaw(), ...edits)).config;
}

/** Validates `raw`, expecting it to be refused; returns the ConfigError's problems. */
export function refusedProblems(raw: RawConfig): readonly Problem[] {
    let loaded: LoadedConfig | undefined;
    try {
        loaded = parseTierConfig(raw);
    } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
    }
    throw new Error(`expected a ConfigError, but the config was accepted (warnings: ${JSON.stringify(loaded.warnings)})`);
}

/** "path (severity)" for each problem: short, order-free comparisons with readable diffs. */
export function problemKeys(problems: readonly Problem[]): string[] {
    return problems.map((p) => `${p.path} (${p.severity})`).sort();
}
