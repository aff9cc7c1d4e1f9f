import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { LoadedConfig, parseTierConfig, projectConfig } from "./load";
import { namespaceProblems } from "./namespaces";
import { ConfigError, Problem } from "../schema/problems";
import {
    CONFIG_NAMESPACE,
    CUTOVER_SECRET_KEY,
    CutoverSecretKey,
    KNOWN_SECRET_KEYS,
    SECRET_KEYS,
    SecretKey,
    TIER_SECRET_KEYS,
    TierConfig,
    TierSecrets,
} from "../schema/schema";
import { weakSecretProblems } from "./secretStrength";
import { closest } from "../schema/spelling";

/** The config of one stack as `pulumi` would see it, read without the CLI. */
export interface StackFileConfig {
    /** Project keys without namespace, secrets excluded. */
    readonly raw: Record<string, unknown>;
    /** Every key of the stack file, namespaced, as written. */
    readonly all: Record<string, unknown>;
    /** Keys in namespaces the program never reads (reported with the config's own problems). */
    readonly problems?: readonly Problem[];
}

export function stackFilePath(projectDir: string, stack: string): string {
    return path.join(projectDir, `Pulumi.${stack}.yaml`);
}

export function readStackFile(projectDir: string, stack: string): StackFileConfig {
    const file = stackFilePath(projectDir, stack);
    if (!fs.existsSync(file)) {
        throw new Error(`no stack file ${file}; stacks here: ${listStacks(projectDir).join(", ")}`);
    }
    let doc: { config?: Record<string, unknown> };
    try {
        doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as typeof doc;
    } catch (err) {
        throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const all = doc.config ?? {};
    return { raw: projectConfig(all), all, problems: namespaceProblems(Object.keys(all)) };
}

/** The stack file's config validated: its namespace problems and the config's own reported together. */
export function loadStackConfig(stackFile: StackFileConfig): LoadedConfig {
    return parseTierConfig(stackFile.raw, stackFile.problems ?? []);
}

export function listStacks(projectDir: string): string[] {
    return fs
        .readdirSync(projectDir)
        .map((name) => /^Pulumi\.(.+)\.yaml$/.exec(name)?.[1])
        .filter((name): name is string => name !== undefined)
        .sort();
}

function pulumiConfigEnv(text: string): Record<string, unknown> {
    try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
        // reported below
    }
    throw new Error(`PULUMI_CONFIG must be a JSON object such as {"${CONFIG_NAMESPACE}:${SECRET_KEYS[0]}":"..."}`);
}

const SECRET_CONFIG_KEYS: readonly string[] = KNOWN_SECRET_KEYS.map((key) => `${CONFIG_NAMESPACE}:${key}`);

/**
 * Offline commands take only secrets from PULUMI_CONFIG (everything else comes from the stack
 * file): any other key is a mistake, named with the closest secret key.
 */
export function checkPulumiConfigKeys(env: NodeJS.ProcessEnv, stack: string): void {
    if (!env.PULUMI_CONFIG) return;
    const wrong = Object.keys(pulumiConfigEnv(env.PULUMI_CONFIG))
        .filter((key) => !SECRET_CONFIG_KEYS.includes(key))
        .map(
            (key) =>
                `  ${key}: not a secret of this stack; did you mean ${closest(key, SECRET_CONFIG_KEYS)}? (other settings belong in Pulumi.${stack}.yaml)`,
        );
    if (wrong.length > 0) {
        throw new Error(`PULUMI_CONFIG has keys the stack does not read offline:\n${wrong.join("\n")}`);
    }
}

export type SecretLookup = { value: string } | { missing: string };

/**
 * Finds a secret the way the Pulumi SDK would without the CLI: the PULUMI_CONFIG environment
 * variable (JSON), else a plain value in the stack file. An encrypted (`secure:`) value cannot be
 * read offline, so it counts as missing with a hint.
 */
export function lookupSecret(
    stackFile: StackFileConfig,
    stack: string,
    key: SecretKey | CutoverSecretKey,
    env: NodeJS.ProcessEnv,
): SecretLookup {
    const fullKey = `${CONFIG_NAMESPACE}:${key}`;
    const fromEnv = env.PULUMI_CONFIG ? pulumiConfigEnv(env.PULUMI_CONFIG)[fullKey] : undefined;
    if (typeof fromEnv === "string" && fromEnv !== "") {
        return { value: fromEnv };
    }
    const inFile = stackFile.all[fullKey];
    if (typeof inFile === "string" && inFile !== "") {
        return { value: inFile };
    }
    const how = `set it with \`pulumi config set --secret ${fullKey} --stack ${stack}\``;
    return inFile !== undefined
        ? { missing: `${fullKey} is encrypted in Pulumi.${stack}.yaml and cannot be read offline; ${how}` }
        : { missing: `${fullKey} is not set; ${how}` };
}

/** Thrown when secrets are not available offline; never invents one. */
export class MissingSecretsError extends Error {
    constructor(
        readonly missing: readonly string[],
        keys: readonly string[],
    ) {
        // One variable carries every secret: separate exports would overwrite each other.
        const example = `{${keys.map((key) => `"${CONFIG_NAMESPACE}:${key}":"..."`).join(",")}}`;
        super(
            `missing secrets:\n${missing.map((m) => `  ${m}`).join("\n")}\noffline, give them all in one variable: export PULUMI_CONFIG='${example}'`,
        );
        this.name = "MissingSecretsError";
    }
}

/**
 * The passwords the rendered files and the checklist need; one error naming every missing one,
 * then one naming every password too weak for the platform.
 */
export function readTierSecrets(
    stackFile: StackFileConfig,
    stack: string,
    env: NodeJS.ProcessEnv,
    platform: TierConfig["platform"],
): TierSecrets {
    checkPulumiConfigKeys(env, stack);
    const secrets: Partial<TierSecrets> = {};
    const missing: [string, string][] = [];
    for (const key of TIER_SECRET_KEYS) {
        const found = lookupSecret(stackFile, stack, key, env);
        if ("value" in found) secrets[key] = found.value;
        else missing.push([key, found.missing]);
    }
    if (missing.length > 0) {
        throw new MissingSecretsError(
            missing.map(([, message]) => message),
            missing.map(([key]) => key),
        );
    }
    const weak = weakSecretProblems(platform, secrets);
    if (weak.length > 0) throw new ConfigError(weak);
    // The cutover's secret is optional here: the userlist renderer names it when the cutover block needs it.
    const legacy = lookupSecret(stackFile, stack, CUTOVER_SECRET_KEY, env);
    return { ...(secrets as TierSecrets), ...("value" in legacy ? { [CUTOVER_SECRET_KEY]: legacy.value } : {}) };
}
