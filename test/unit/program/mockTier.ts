import { gunzipSync } from "zlib";
import { parse } from "yaml";
import { expect, inject } from "vitest";
import { renderStack } from "../../../offline/renderStack";
import { CONFIG_NAMESPACE, CUTOVER_SECRET_KEY, SECRET_KEYS } from "../../../components/schema/schema";
import type { ProgramRun, RegisteredResource } from "../../../offline/mockEngine";
import { isSecretValue } from "../../../offline/secretValues";
import { PROGRAM_SECRETS } from "./programRun";
import { PROJECT_DIR } from "../support/stackConfig";
import type { SharedStack } from "./stackRuns";

export type { ProgramRun } from "../../../offline/mockEngine";
export { isSecretValue, plain } from "../../../offline/secretValues";
export { runProgram, PROGRAM_SECRETS } from "./programRun";
export { PROJECT_DIR } from "../support/stackConfig";

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

/** A stack's unedited program run, made once per run of the `unit` project (stackRuns.ts); a copy per call. */
export function stackRun(stack: SharedStack): ProgramRun {
    return structuredClone(inject("stackRuns")[stack]);
}

export function byType(run: ProgramRun, type: string): RegisteredResource[] {
    return run.resources.filter((r) => r.type === type);
}

export function byName(run: ProgramRun, name: string): RegisteredResource {
    const found = run.resources.find((r) => r.name === name);
    if (!found) throw new Error(`no resource ${name}; have ${run.resources.map((r) => r.name).join(", ")}`);
    return found;
}

/** The six files `npm run render` writes for a stack, given the test secrets. */
export function renderedFiles(stack: string) {
    const env = {
        PULUMI_CONFIG: JSON.stringify(
            Object.fromEntries(
                ([...SECRET_KEYS, CUTOVER_SECRET_KEY] as const).map((key) => [`${CONFIG_NAMESPACE}:${key}`, PROGRAM_SECRETS[key]]),
            ),
        ),
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
