import * as path from "path";
import { CONFIG_NAMESPACE, StackSecrets } from "../../components/schema/schema";
import { readStackFile } from "../../components/config/stackFile";
import { run } from "../run";
import { mergeConfig, RawConfig } from "../stack";
import { PROJECT_DIR } from "../../runtime/projectDir";
import { TS_HOOK_NODE_ARGS } from "../../runtime/typeScriptChild";
import { engineConfig, SECRET_CONFIG_KEYS } from "../../offline/stackConfig";
import { Deployment, DeploymentRequest } from "./deployment";

// The program's own run, as `npm run plan` makes it (the project's mocked engine, this checkout's
// index.ts), in a child process (the SDK runs a program once per process), with the boot's stack
// config overrides and secrets. The hosts boot from exactly what it registers.

export interface DeploymentOptions {
    readonly stack: string;
    /** Deep-merged into the stack file's receiver-tier config (e.g. postgres.caBundle). */
    readonly overrides: RawConfig;
    readonly secrets: StackSecrets;
    readonly parameterVersions?: Readonly<Record<string, number>>;
}

export async function deployUnderMocks(options: DeploymentOptions): Promise<Deployment> {
    const stackFile = readStackFile(PROJECT_DIR, options.stack);
    const all: Record<string, unknown> = { ...stackFile.all };
    for (const [key, value] of Object.entries(options.overrides)) {
        const name = `${CONFIG_NAMESPACE}:${key}`;
        const current = all[name];
        all[name] =
            typeof current === "object" && current !== null && typeof value === "object" && value !== null
                ? mergeConfig(current as RawConfig, value as RawConfig)
                : value;
    }
    const region = String(all["aws:region"] ?? "");
    if (region === "") throw new Error(`Pulumi.${options.stack}.yaml sets no aws:region`);
    const request: DeploymentRequest = {
        stack: options.stack,
        region,
        config: engineConfig(all, options.secrets),
        secretKeys: SECRET_CONFIG_KEYS,
        parameterVersions: options.parameterVersions ?? {},
    };
    const result = await run(process.execPath, [...TS_HOOK_NODE_ARGS, path.join(PROJECT_DIR, "harness", "boot", "programRun.ts")], {
        input: JSON.stringify(request),
        cwd: PROJECT_DIR,
        timeoutMs: 180_000,
        env: { ...process.env },
    });
    if (result.code !== 0) throw new Error(`the program under the mocked engine failed for stack ${options.stack}:\n${result.stderr}`);
    return JSON.parse(result.stdout) as Deployment;
}
