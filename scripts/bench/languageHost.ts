import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";

/** The Node.js runtime options of Pulumi.yaml that decide how `pulumi preview`/`up` starts the program. */
export interface RuntimeOptions {
    readonly typescript: boolean;
    readonly tsconfig?: string;
    readonly nodeargs?: string;
    /** PULUMI_NODEJS_TRANSPILE_ONLY, the language host's switch for a ts-node that does not type-check. */
    readonly transpileOnly?: boolean;
}

export function runtimeOptions(projectDir: string): RuntimeOptions {
    const project = parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as {
        runtime: string | { name: string; options?: Record<string, unknown> };
    };
    const options = typeof project.runtime === "string" ? {} : (project.runtime.options ?? {});
    return {
        // The language host's default.
        typescript: options.typescript !== false,
        ...(typeof options.tsconfig === "string" ? { tsconfig: options.tsconfig } : {}),
        ...(typeof options.nodeargs === "string" ? { nodeargs: options.nodeargs } : {}),
    };
}

export interface ProgramLaunch {
    readonly command: string;
    readonly args: string[];
    readonly env: NodeJS.ProcessEnv;
    /** The fresh TMPDIR of a cold start, which the caller removes. */
    readonly scratchDir?: string;
}

/**
 * The process Pulumi's Node.js language host spawns for `pulumi preview --stack <stack>`: node with the
 * project's nodeargs running @pulumi/pulumi's cmd/run on the project, PULUMI_NODEJS_TYPESCRIPT and
 * PULUMI_NODEJS_TSCONFIG_PATH from the runtime options (Pulumi.yaml's unless given), the stack's config in
 * PULUMI_CONFIG, the SDK's mocks preloaded in place of the engine. A `cold` start has a fresh TMPDIR and
 * TypeScript cache (scripts/tsRequireHook.cjs's, and ts-node's, which lives in TMPDIR), as on a fresh CI runner.
 */
export function previewLaunch(
    projectDir: string,
    stack: string,
    config: Record<string, string>,
    secretKeys: readonly string[],
    markerFile: string,
    start: { readonly cold: boolean; readonly runtime?: RuntimeOptions },
): ProgramLaunch {
    const options = start.runtime ?? runtimeOptions(projectDir);
    const scratchDir = start.cold ? fs.mkdtempSync(path.join(os.tmpdir(), "langhost-")) : undefined;
    const nodeArgs = options.nodeargs ? options.nodeargs.split(/\s+/).filter(Boolean) : [];
    // Only the runtime options decide how the program starts: not a variable left in the caller's shell.
    const { PULUMI_NODEJS_TRANSPILE_ONLY: _transpileOnly, PULUMI_NODEJS_TSCONFIG_PATH: _tsconfig, ...inherited } = process.env;
    return {
        command: process.execPath,
        args: [
            ...nodeArgs,
            "--require",
            path.join(__dirname, "languageHostMocks.cjs"),
            path.join(projectDir, "node_modules", "@pulumi", "pulumi", "cmd", "run"),
            ...["--monitor", "mocked", "--project", "receiver-tier", "--stack", stack, "--dry-run", "--pwd", projectDir, "."],
        ],
        env: {
            ...inherited,
            ...(scratchDir ? { TMPDIR: scratchDir, RECEIVER_TIER_TS_CACHE_DIR: path.join(scratchDir, "ts-cache") } : {}),
            PULUMI_CONFIG: JSON.stringify(config),
            PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretKeys),
            PULUMI_NODEJS_PROJECT: "receiver-tier",
            PULUMI_NODEJS_STACK: stack,
            RECEIVER_TIER_FIRST_RESOURCE_FILE: markerFile,
            ...(options.typescript ? { PULUMI_NODEJS_TYPESCRIPT: "true" } : {}),
            ...(options.tsconfig ? { PULUMI_NODEJS_TSCONFIG_PATH: options.tsconfig } : {}),
            ...(options.transpileOnly ? { PULUMI_NODEJS_TRANSPILE_ONLY: "true" } : {}),
        },
        ...(scratchDir ? { scratchDir } : {}),
    };
}
