import { parse } from "yaml";
import { expect } from "vitest";
import { renderStack } from "../../../scripts/renderStack";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { CONFIG_NAMESPACE, SECRET_KEYS, SecretKey } from "../../../components/config/schema";
import { readStackFile } from "../../../components/config/stackFile";

/** A resource the program registered, with its inputs as the engine received them. */
export interface MockResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
}

export interface ProgramRun {
    readonly resources: MockResource[];
    readonly outputs: Record<string, unknown>;
}

export const PROJECT_DIR = path.resolve(__dirname, "..", "..", "..");

/** Passwords the tests hand the program; none may appear outside a secret. */
export const TEST_SECRETS: Record<SecretKey, string> = {
    receiverPassword: "test-receiver-password-1",
    statsPassword: "test-stats-password-2",
    monitorPassword: "test-monitor-password-3",
    postgresAdminPassword: "test-admin-password-4",
};

// The wire form of a secret value in mocked resource inputs (see @pulumi/pulumi runtime/rpc).
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export function isSecretValue(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** Inputs with secret wrappers removed, for asserting values. */
export function plain(value: unknown): unknown {
    if (isSecretValue(value)) return plain(value.value);
    if (Array.isArray(value)) return value.map(plain);
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
    }
    return value;
}

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

function unwrapOutput(value: unknown): Promise<unknown> {
    return new Promise((resolve) => {
        if (pulumi.Output.isInstance(value)) (value as pulumi.Output<unknown>).apply(resolve);
        else if (Array.isArray(value) || (typeof value === "object" && value !== null)) resolve(pulumi.output(value as object).apply((v) => v));
        else resolve(value);
    }).then((v) => (pulumi.Output.isInstance(v) ? unwrapOutput(v) : v));
}

/** Stack-file config as the Pulumi SDK hands it to a program: objects as JSON text. */
export function stackConfig(stack: string, edit: (raw: Record<string, unknown>) => void = () => undefined): Record<string, string> {
    const { all } = readStackFile(PROJECT_DIR, stack);
    const copy = structuredClone(all);
    const raw: Record<string, unknown> = {};
    const prefix = `${CONFIG_NAMESPACE}:`;
    for (const [key, value] of Object.entries(copy)) if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
    edit(raw);
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(copy)) if (!key.startsWith(prefix)) config[key] = String(value);
    for (const [key, value] of Object.entries(raw)) config[prefix + key] = typeof value === "string" ? value : JSON.stringify(value);
    for (const key of SECRET_KEYS) config[prefix + key] = TEST_SECRETS[key];
    return config;
}

/**
 * Runs index.ts under the mocked engine for one stack. Call once per test file: the program is a
 * module and runs when first imported (vitest isolates files).
 */
export async function runProgram(stack: string, edit?: (raw: Record<string, unknown>) => void): Promise<ProgramRun> {
    const resources: MockResource[] = [];
    pulumi.runtime.setAllConfig(stackConfig(stack, edit), SECRET_KEYS.map((key) => `${CONFIG_NAMESPACE}:${key}`));
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                resources.push({ type: args.type, name: args.name, inputs: args.inputs });
                const extra: Record<string, unknown> = {
                    arn: `arn:aws:mock:::${args.name}`,
                    privateIp: `10.0.0.${resources.length}`,
                    dnsName: `${args.name}.elb.mock`,
                    zoneId: "ZMOCK",
                    latestVersion: 1,
                };
                return { id: `${args.name}-id`, state: { ...extra, ...args.inputs } };
            },
            call(args) {
                if (args.token === "aws:ssm/getParameter:getParameter") return { ...args.inputs, value: "ami-0123456789abcdef0" };
                return args.inputs;
            },
        },
        "receiver-tier",
        stack,
        false,
    );
    const program = (await import("../../../index")) as Record<string, unknown>;
    const outputs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(program)) outputs[key] = await unwrapOutput(value);
    // Let every registration reach the mocks before tests read them.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { resources, outputs };
}

export function byType(run: ProgramRun, type: string): MockResource[] {
    return run.resources.filter((r) => r.type === type);
}

export function byName(run: ProgramRun, name: string): MockResource {
    const found = run.resources.find((r) => r.name === name);
    if (!found) throw new Error(`no resource ${name}; have ${run.resources.map((r) => r.name).join(", ")}`);
    return found;
}

/** The five files `npm run render` writes for a stack, given the test secrets. */
export function renderedFiles(stack: string) {
    const env = { PULUMI_CONFIG: JSON.stringify(Object.fromEntries(SECRET_KEYS.map((key) => [`${CONFIG_NAMESPACE}:${key}`, TEST_SECRETS[key]]))) };
    return renderStack(PROJECT_DIR, stack, env).files;
}

/** cloud-init write_files of a user data document, by path. */
export function cloudInitFiles(userData: string): Map<string, string> {
    expect(userData.startsWith("#cloud-config\n")).toBe(true);
    const doc = parse(userData) as { write_files: { path: string; content: string }[] };
    return new Map(doc.write_files.map((f) => [f.path, f.content]));
}
