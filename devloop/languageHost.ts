import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { planConfig, SECRET_CONFIG_KEYS } from "../offline/stackConfig";

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

/** How to start the program: with the caches as they are or empty, and with other runtime options than Pulumi.yaml's. */
export interface StartOptions {
    readonly cold: boolean;
    readonly runtime?: RuntimeOptions;
}

/**
 * Starts the program as Pulumi's Node.js language host spawns it for `pulumi preview --stack <stack>`: node with
 * the project's nodeargs running @pulumi/pulumi's cmd/run on the project, PULUMI_NODEJS_TYPESCRIPT and
 * PULUMI_NODEJS_TSCONFIG_PATH from the runtime options (Pulumi.yaml's unless given), the stack's config in
 * PULUMI_CONFIG as the plan has it, the SDK's mocks (languageHostMocks.cjs) preloaded in place of the engine.
 * A `cold` start has a fresh TMPDIR and TypeScript cache (runtime/tsRequireHook.cjs's, and ts-node's, which
 * lives in TMPDIR), as on a fresh CI runner. Returns the seconds from the spawn to the first resource the
 * program registers (none if it registered none) and what the program wrote to stderr.
 */
export function startToFirstResource(projectDir: string, stack: string, start: StartOptions): { seconds?: number; stderr: string } {
    const options = start.runtime ?? runtimeOptions(projectDir);
    const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), "langhost-"));
    const marker = path.join(scratchDir, "first-resource-at");
    const nodeArgs = options.nodeargs ? options.nodeargs.split(/\s+/).filter(Boolean) : [];
    // Only the runtime options decide how the program starts: not a variable left in the caller's shell.
    const { PULUMI_NODEJS_TRANSPILE_ONLY: _transpileOnly, PULUMI_NODEJS_TSCONFIG_PATH: _tsconfig, ...inherited } = process.env;
    const args = [
        ...nodeArgs,
        "--require",
        path.join(__dirname, "languageHostMocks.cjs"),
        path.join(projectDir, "node_modules", "@pulumi", "pulumi", "cmd", "run"),
        ...["--monitor", "mocked", "--project", "receiver-tier", "--stack", stack, "--dry-run", "--pwd", projectDir, "."],
    ];
    const env = {
        ...inherited,
        ...(start.cold ? { TMPDIR: scratchDir, RECEIVER_TIER_TS_CACHE_DIR: path.join(scratchDir, "ts-cache") } : {}),
        PULUMI_CONFIG: JSON.stringify(planConfig(projectDir, stack, process.env)),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(SECRET_CONFIG_KEYS),
        PULUMI_NODEJS_PROJECT: "receiver-tier",
        PULUMI_NODEJS_STACK: stack,
        RECEIVER_TIER_FIRST_RESOURCE_FILE: marker,
        ...(options.typescript ? { PULUMI_NODEJS_TYPESCRIPT: "true" } : {}),
        ...(options.tsconfig ? { PULUMI_NODEJS_TSCONFIG_PATH: options.tsconfig } : {}),
        ...(options.transpileOnly ? { PULUMI_NODEJS_TRANSPILE_ONLY: "true" } : {}),
    };
    const spawned = performance.timeOrigin + performance.now();
    try {
        // The mocks end the process at the first resource, which the SDK reports as leaked promises: the
        // marker file, not the exit status, says whether the program got there.
        const result = spawnSync(process.execPath, args, { cwd: projectDir, env, encoding: "utf8", timeout: 120_000 });
        const seconds = fs.existsSync(marker) ? (Number(fs.readFileSync(marker, "utf8")) - spawned) / 1000 : undefined;
        return { ...(seconds === undefined ? {} : { seconds }), stderr: result.stderr };
    } finally {
        fs.rmSync(scratchDir, { recursive: true, force: true });
    }
}
