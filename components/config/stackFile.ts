import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { projectConfig } from "./load";
import { CONFIG_NAMESPACE, SECRET_KEYS, SecretKey, TierSecrets } from "./schema";

/** The config of one stack as `pulumi` would see it, read without the CLI. */
export interface StackFileConfig {
    /** Project keys without namespace, secrets excluded. */
    readonly raw: Record<string, unknown>;
    /** Every key of the stack file, namespaced, as written. */
    readonly all: Record<string, unknown>;
}

export function stackFilePath(projectDir: string, stack: string): string {
    return path.join(projectDir, `Pulumi.${stack}.yaml`);
}

export function readStackFile(projectDir: string, stack: string): StackFileConfig {
    const file = stackFilePath(projectDir, stack);
    if (!fs.existsSync(file)) {
        throw new Error(`no stack file ${file}; stacks here: ${listStacks(projectDir).join(", ")}`);
    }
    const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const all = doc.config ?? {};
    return { raw: projectConfig(all), all };
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
    throw new Error(`PULUMI_CONFIG must be a JSON object such as {"${CONFIG_NAMESPACE}:receiverPassword":"..."}`);
}

export type SecretLookup = { value: string } | { missing: string };

/**
 * Finds a secret the way the Pulumi SDK would without the CLI: the PULUMI_CONFIG environment
 * variable (JSON), else a plain value in the stack file. An encrypted (`secure:`) value cannot be
 * read offline, so it counts as missing with a hint.
 */
export function lookupSecret(stackFile: StackFileConfig, stack: string, key: SecretKey, env: NodeJS.ProcessEnv): SecretLookup {
    const fullKey = `${CONFIG_NAMESPACE}:${key}`;
    const fromEnv = env.PULUMI_CONFIG ? pulumiConfigEnv(env.PULUMI_CONFIG)[fullKey] : undefined;
    if (typeof fromEnv === "string" && fromEnv !== "") {
        return { value: fromEnv };
    }
    const inFile = stackFile.all[fullKey];
    if (typeof inFile === "string" && inFile !== "") {
        return { value: inFile };
    }
    const how = `set it with \`pulumi config set --secret ${fullKey} --stack ${stack}\`, and for offline use export PULUMI_CONFIG='{"${fullKey}":"..."}'`;
    return inFile !== undefined
        ? { missing: `${fullKey} is encrypted in Pulumi.${stack}.yaml and cannot be read offline; ${how}` }
        : { missing: `${fullKey} is not set; ${how}` };
}

/** Thrown when secrets are not available offline; never invents one. */
export class MissingSecretsError extends Error {
    constructor(readonly missing: readonly string[]) {
        super(`missing secrets:\n${missing.map((m) => `  ${m}`).join("\n")}`);
        this.name = "MissingSecretsError";
    }
}

const TIER_SECRET_KEYS = SECRET_KEYS.filter((key): key is keyof TierSecrets => key !== "postgresAdminPassword");

/** The passwords the rendered files and the checklist need; one error naming every missing one. */
export function readTierSecrets(stackFile: StackFileConfig, stack: string, env: NodeJS.ProcessEnv): TierSecrets {
    const secrets: Partial<TierSecrets> = {};
    const missing: string[] = [];
    for (const key of TIER_SECRET_KEYS) {
        const found = lookupSecret(stackFile, stack, key, env);
        if ("value" in found) secrets[key] = found.value;
        else missing.push(found.missing);
    }
    if (missing.length > 0) throw new MissingSecretsError(missing);
    return secrets as TierSecrets;
}
