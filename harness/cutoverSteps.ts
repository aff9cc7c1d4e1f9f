import { readStackFile } from "../components/config/stackFile";
import { parseTierConfig } from "../components/config/load";
import { TierConfig } from "../components/schema/schema";
import { PROJECT_DIR } from "../runtime/projectDir";

/** Raw stack config (keys without namespace), as in Pulumi.<stack>.yaml. */
type Raw = Record<string, unknown>;

/** Sets a dotted key path such as "pgbouncer.settings.query_timeout"; `undefined` deletes the key. */
export type Edit = readonly [dottedPath: string, value: unknown];

export function edited(raw: Raw, ...edits: readonly Edit[]): Raw {
    const copy = structuredClone(raw);
    for (const [dottedPath, value] of edits) {
        const keys = dottedPath.split(".");
        const last = keys.pop() as string;
        let node = copy;
        for (const key of keys) {
            const child = node[key];
            if (typeof child !== "object" || child === null) node[key] = {};
            node = node[key] as Raw;
        }
        if (value === undefined) delete node[last];
        else node[last] = value;
    }
    return copy;
}

/**
 * The cutover's last step (README "First deploy into an existing environment", step 3) as edits of
 * Pulumi.canary.yaml, which is step 1: the block and the adopt entries go, and with the hand-made PgBouncer
 * stopped the pools take the budget it held, (2 hosts + 1 during a roll) x (20 + 5) = 75 of 77.
 */
export const RETIRE_CUTOVER_EDITS: readonly Edit[] = [
    ["cutover", undefined],
    ["adopt", undefined],
    ["pgbouncer.settings.default_pool_size", 20],
    ["pgbouncer.settings.reserve_pool_size", 5],
];

/** The documented steps' stack files; step 2 changes no config (senders move, the hand-made hosts stop). */
export const CUTOVER_STEP_EDITS: Readonly<Record<1 | 2 | 3, readonly Edit[]>> = { 1: [], 2: [], 3: RETIRE_CUTOVER_EDITS };

/** Pulumi.canary.yaml's project keys at one cutover step, with `extra` edits (e.g. a test's CA bundle). */
export function canaryStepRaw(step: 1 | 2 | 3, ...extra: readonly Edit[]): Raw {
    return edited(readStackFile(PROJECT_DIR, "canary").raw, ...CUTOVER_STEP_EDITS[step], ...extra);
}

/** The canary stack at one cutover step, validated by the schema and every rule. */
export function canaryStepConfig(step: 1 | 2 | 3, ...extra: readonly Edit[]): TierConfig {
    return parseTierConfig(canaryStepRaw(step, ...extra)).config;
}
