import { z } from "zod";
import { ConfigError, configKey, Problem } from "./problems";
import { checkRules } from "./rules";
import { CONFIG_NAMESPACE, SECRET_KEYS, TierConfig, tierSchema } from "./schema";

/** A validated config and the doubtful-but-legal settings found in it. */
export interface LoadedConfig {
    readonly config: TierConfig;
    readonly warnings: readonly Problem[];
}

function zodProblems(issues: readonly z.core.$ZodIssue[]): Problem[] {
    return issues.flatMap((issue): Problem[] => {
        if (issue.code === "unrecognized_keys") {
            return issue.keys.map((key) => ({
                path: configKey([...issue.path, key]),
                message: "unknown key (check its spelling against the config reference; PgBouncer and Gunicorn names are used as-is)",
                severity: "error" as const,
            }));
        }
        return [{ path: configKey(issue.path), message: issue.message, severity: "error" as const }];
    });
}

// Pulumi hands structured values to the program as JSON text.
function decodeValue(value: unknown): unknown {
    if (typeof value === "string" && /^\s*[[{]/.test(value)) {
        try {
            return JSON.parse(value);
        } catch {
            return value;
        }
    }
    return value;
}

/**
 * Picks this project's keys out of a full config map ("receiver-tier:pgbouncer" -> value),
 * leaving out the secrets, which are read separately.
 */
export function projectConfig(all: Record<string, unknown>): Record<string, unknown> {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const secretKeys: readonly string[] = SECRET_KEYS;
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(all)) {
        if (!key.startsWith(prefix)) continue;
        const name = key.slice(prefix.length);
        if (!secretKeys.includes(name)) raw[name] = decodeValue(value);
    }
    return raw;
}

function withoutKeys(raw: Record<string, unknown>, unknown: readonly z.core.$ZodIssueUnrecognizedKeys[]): Record<string, unknown> {
    const copy = structuredClone(raw);
    for (const issue of unknown) {
        const parent = issue.path.reduce<unknown>((node, key) => (node as Record<PropertyKey, unknown>)[key], copy);
        for (const key of issue.keys) delete (parent as Record<string, unknown>)[key];
    }
    return copy;
}

/** Validates raw project config (keys without namespace); throws ConfigError listing every problem. */
export function parseTierConfig(raw: Record<string, unknown>): LoadedConfig {
    let parsed = tierSchema.safeParse(raw);
    const problems: Problem[] = [];
    if (!parsed.success) {
        const issues = parsed.error.issues;
        problems.push(...zodProblems(issues));
        // With only misspelt keys the rest is still checkable: report the cross-field rules too.
        const unknown = issues.filter((issue): issue is z.core.$ZodIssueUnrecognizedKeys => issue.code === "unrecognized_keys");
        parsed = unknown.length === issues.length ? tierSchema.safeParse(withoutKeys(raw, unknown)) : parsed;
    }
    if (parsed.success) {
        problems.push(...checkRules(parsed.data));
    }
    const errors = problems.filter((p) => p.severity === "error");
    if (errors.length > 0 || !parsed.success) {
        throw new ConfigError(errors);
    }
    return { config: parsed.data, warnings: problems.filter((p) => p.severity === "warning") };
}
