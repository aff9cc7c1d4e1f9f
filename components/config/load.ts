import { z } from "zod";
import { ConfigError, configKey, Problem } from "../schema/problems";
import { checkRules, RULES } from "./rules";
import { CONFIG_NAMESPACE, hasPlatformSection, KNOWN_SECRET_KEYS, SchemaConfig, TierConfig, tierSchema } from "../schema/schema";
import { closest } from "../schema/spelling";

/** A validated config and the doubtful-but-legal settings found in it. */
export interface LoadedConfig {
    readonly config: TierConfig;
    readonly warnings: readonly Problem[];
}

type SchemaNode = { _zod: { def: { innerType?: SchemaNode; element?: SchemaNode } }; shape?: Record<string, SchemaNode> };

/** The keys the schema accepts in the object at `path` (defaults, prefaults and optionals looked through). */
function keysAt(path: readonly PropertyKey[]): string[] {
    const unwrap = (node: SchemaNode | undefined) => {
        while (node?._zod.def.innerType) node = node._zod.def.innerType;
        return node;
    };
    let node = unwrap(tierSchema as unknown as SchemaNode);
    for (const key of path) node = unwrap(typeof key === "number" ? node?._zod.def.element : node?.shape?.[String(key)]);
    return Object.keys(node?.shape ?? {});
}

function unknownKeyMessage(path: readonly PropertyKey[], key: string): string {
    // Secrets sit beside the top-level keys in a stack file.
    const candidates = [...keysAt(path), ...(path.length === 0 ? KNOWN_SECRET_KEYS : [])];
    const near = closest(key, candidates);
    return `unknown key${near === undefined ? "" : `; did you mean ${near}?`} (PgBouncer and Gunicorn names are used as-is; see the config reference)`;
}

function zodProblems(issues: readonly z.core.$ZodIssue[]): Problem[] {
    return issues.flatMap((issue): Problem[] => {
        if (issue.code === "unrecognized_keys") {
            return issue.keys.map((key) => ({
                path: configKey([...issue.path, key]),
                message: unknownKeyMessage(issue.path, key),
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
    const secretKeys = KNOWN_SECRET_KEYS;
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(all)) {
        if (!key.startsWith(prefix)) continue;
        const name = key.slice(prefix.length);
        if (!secretKeys.includes(name)) raw[name] = decodeValue(value);
    }
    return raw;
}

type Path = readonly PropertyKey[];

const dotted = (path: Path) => path.map(String).join(".");

/** A copy of `raw` without the keys at `paths`; an element of a list takes the whole list with it. */
function withoutPaths(raw: Record<string, unknown>, paths: readonly Path[]): Record<string, unknown> {
    const copy = structuredClone(raw);
    for (const path of paths) {
        let parent: unknown = copy;
        for (const key of path.slice(0, -1)) parent = (parent as Record<PropertyKey, unknown> | undefined)?.[key];
        if (typeof parent === "object" && parent !== null && !Array.isArray(parent))
            delete (parent as Record<PropertyKey, unknown>)[path.at(-1)!];
    }
    return copy;
}

function issuePaths(issues: readonly z.core.$ZodIssue[]): Path[] {
    return issues.flatMap((issue) => (issue.code === "unrecognized_keys" ? issue.keys.map((key) => [...issue.path, key]) : [issue.path]));
}

/** Drops the index of a list element: the list is removed as a whole. */
function withoutIndex(path: Path): Path {
    const index = path.findIndex((key) => typeof key === "number");
    return index < 0 ? path : path.slice(0, index);
}

/**
 * The config with every key that has an error removed, so defaults fill it; a required key is
 * removed with its parent, up to the top. Undefined when nothing valid remains (e.g. no platform).
 */
function repaired(
    raw: Record<string, unknown>,
    issues: readonly z.core.$ZodIssue[],
): { config: SchemaConfig; removed: string[] } | undefined {
    const removed = new Map<string, Path>();
    let pending = issuePaths(issues);
    for (let round = 0; round < 8; round++) {
        for (const path of pending.map(withoutIndex)) {
            // A key already removed that is still reported is required: take its parent instead.
            const target = removed.has(dotted(path)) ? path.slice(0, -1) : path;
            if (target.length === 0) return undefined;
            removed.set(dotted(target), target);
        }
        const parsed = tierSchema.safeParse(withoutPaths(raw, [...removed.values()]));
        if (parsed.success) return { config: parsed.data, removed: [...removed.keys()] };
        pending = issuePaths(parsed.error.issues);
    }
    return undefined;
}

/** `value` behind a proxy that records every key path read from it. */
function tracked<T>(value: T, at: string, reads: Set<string>): T {
    if (typeof value !== "object" || value === null) return value;
    return new Proxy(value, {
        get(target, key, receiver) {
            const child = Reflect.get(target, key, receiver) as unknown;
            if (typeof key !== "string") return child;
            const path = at ? `${at}.${key}` : key;
            reads.add(path);
            return tracked(child, path, reads);
        },
    });
}

/**
 * Cross-field rules on a config whose invalid keys were replaced by their defaults. A rule that
 * reads any replaced key is skipped, so no finding rests on a value the stack does not set.
 */
function rulesBesideErrors(config: SchemaConfig, removed: readonly string[]): { problems: Problem[]; skipped: number } {
    const problems: Problem[] = [];
    let skipped = 0;
    for (const rule of RULES) {
        const reads = new Set<string>();
        const found = rule(tracked(config, "", reads));
        const usesRemoved = [...reads].some((read) => removed.some((path) => read === path || read.startsWith(`${path}.`)));
        if (usesRemoved) skipped++;
        else problems.push(...found);
    }
    return { problems, skipped };
}

/**
 * Validates raw project config (keys without namespace); throws ConfigError listing every problem,
 * `extra` (e.g. stack-file namespace errors) included. With type errors the cross-field rules that
 * do not read an invalid key still run, so one run reports everything it can.
 */
export function parseTierConfig(raw: Record<string, unknown>, extra: readonly Problem[] = []): LoadedConfig {
    const parsed = tierSchema.safeParse(raw);
    const problems: Problem[] = [...extra];
    let skipped = 0;
    if (parsed.success) {
        problems.push(...checkRules(parsed.data));
    } else {
        problems.push(...zodProblems(parsed.error.issues));
        const fallback = repaired(raw, parsed.error.issues);
        if (fallback) {
            const besides = rulesBesideErrors(fallback.config, fallback.removed);
            problems.push(...besides.problems);
            skipped = besides.skipped;
        } else {
            skipped = RULES.length;
        }
    }
    const errors = problems.filter((p) => p.severity === "error");
    if (errors.length > 0 || !parsed.success) throw new ConfigError(errors, skipped);
    // Without errors the rules passed, platformSectionPresent among them: this only narrows the type.
    if (!hasPlatformSection(parsed.data)) throw new Error("the platformSectionPresent rule passed a config without its platform's section");
    return { config: parsed.data, warnings: problems.filter((p) => p.severity === "warning") };
}
