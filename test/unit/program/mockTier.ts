import { gunzipSync } from "zlib";
import { parse } from "yaml";
import { expect } from "vitest";
import { renderStack } from "../../../scripts/renderStack";
import * as path from "path";
import { CONFIG_NAMESPACE, SECRET_KEYS, SecretKey } from "../../../components/config/schema";
import { readStackFile } from "../../../components/config/stackFile";
import { isSecretValue, ProgramRun, RegisteredResource, runUnderMocks } from "../../../scripts/plan/mockEngine";
import { engineConfig, SECRET_CONFIG_KEYS } from "../../../scripts/plan/stackConfig";

export type { ProgramRun } from "../../../scripts/plan/mockEngine";
export { isSecretValue, plain } from "../../../scripts/plan/mockEngine";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..", "..");

/** Passwords the tests hand the program; none may appear outside a secret. */
export const TEST_SECRETS: Record<SecretKey, string> = {
    receiverPasswordA: "test-receiver-password-1",
    receiverPasswordB: "test-receiver-password-5",
    statsPasswordA: "test-stats-password-2",
    statsPasswordB: "test-stats-password-6",
    monitorPassword: "test-monitor-password-3",
    webhookSigningSecret: "test-signing-secret-5",
    postgresAdminPassword: "test-admin-password-4",
};

/** Every string in a value that is not inside a secret, with its key path. */
export function nonSecretStrings(value: unknown, at = ""): [string, string][] {
    if (isSecretValue(value)) return [];
    if (typeof value === "string") return [[at, value]];
    if (Array.isArray(value)) return value.flatMap((v, i) => nonSecretStrings(v, `${at}[${i}]`));
    if (typeof value === "object" && value !== null) {
        return Object.entries(value).flatMap(([k, v]) => nonSecretStrings(v, at ? `${at}.${k}` : k));
    }
    return [];
}

/** A stack file's config with `edit` applied to a copy of its project keys (namespace stripped, as in the stack file). */
function editedConfig(all: Record<string, unknown>, edit: (raw: Record<string, any>) => void): Record<string, unknown> {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const raw: Record<string, unknown> = {};
    const others: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(structuredClone(all))) {
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
        else others[key] = value;
    }
    edit(raw);
    return { ...others, ...Object.fromEntries(Object.entries(raw).map(([key, value]) => [prefix + key, value])) };
}

/**
 * Runs index.ts under the mocked engine (the same engine as `npm run plan`) for one stack,
 * with `edit` applied to the stack file's project keys. Call vi.resetModules() before a second run.
 */
export function runProgram(stack: string, edit?: (raw: Record<string, any>) => void): Promise<ProgramRun> {
    const all = readStackFile(PROJECT_DIR, stack).all;
    const config = engineConfig(edit ? editedConfig(all, edit) : all, TEST_SECRETS);
    return runUnderMocks("receiver-tier", stack, config, SECRET_CONFIG_KEYS, () => import("../../../index"));
}

export function byType(run: ProgramRun, type: string): RegisteredResource[] {
    return run.resources.filter((r) => r.type === type);
}

export function byName(run: ProgramRun, name: string): RegisteredResource {
    const found = run.resources.find((r) => r.name === name);
    if (!found) throw new Error(`no resource ${name}; have ${run.resources.map((r) => r.name).join(", ")}`);
    return found;
}

/** The five files `npm run render` writes for a stack, given the test secrets. */
export function renderedFiles(stack: string) {
    const env = {
        PULUMI_CONFIG: JSON.stringify(Object.fromEntries(SECRET_KEYS.map((key) => [`${CONFIG_NAMESPACE}:${key}`, TEST_SECRETS[key]]))),
    };
    return renderStack(PROJECT_DIR, stack, env).files;
}

/** The cloud-config text of a launch template's user data (base64 of gzip). */
export function launchTemplateText(userData: unknown): string {
    return gunzipSync(Buffer.from(userData as string, "base64")).toString("utf8");
}

/** cloud-init write_files of a user data document, by path (the launch template gzips the whole document). */
export function cloudInitFiles(userData: string): Map<string, string> {
    expect(userData.startsWith("#cloud-config\n")).toBe(true);
    const doc = parse(userData) as { write_files: { path: string; content: string; encoding?: string }[] };
    for (const f of doc.write_files) expect(f.encoding, f.path).toBeUndefined();
    return new Map(doc.write_files.map((f) => [f.path, f.content]));
}
