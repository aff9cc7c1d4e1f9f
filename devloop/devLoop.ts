import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RuntimeOptions, runtimeOptions, startToFirstResource, StartOptions } from "./languageHost";

/** Seconds a figure took: the median of its runs and the fastest. */
export interface Timing {
    readonly median: number;
    readonly fastest: number;
}

/** One figure of the development loop. */
export interface Figure {
    readonly label: string;
    readonly seconds: Timing;
    readonly runs: number;
    /** What it is compared with (medians with medians, fastest with fastest) and the target from issue 13, if any. */
    readonly against?: { readonly label: string; readonly ratio: Timing; readonly target?: number };
}

const now = () => performance.timeOrigin + performance.now();

/** Runs a command to completion; its stdout. */
function run(label: string, command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
    const result = spawnSync(command, args, { cwd, env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (result.status !== 0) {
        throw new Error(`${label} failed (exit ${result.status ?? result.signal}):\n${(result.stderr || result.stdout).slice(-2000)}`);
    }
    return result.stdout;
}

function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * Each figure's timing over `runs` rounds. A round measures every figure once, so a slow spell of a shared
 * machine falls on all of them alike, not on one figure's runs. Such spells only ever add time: the fastest
 * run is the closest to the work itself, the median to what a user sees.
 */
function measureInRounds<K extends string>(runs: number, figures: Record<K, () => number>): Record<K, Timing> {
    const samples = Object.fromEntries(Object.keys(figures).map((key) => [key, [] as number[]])) as Record<K, number[]>;
    for (let round = 0; round < runs; round++) {
        for (const key of Object.keys(figures) as K[]) samples[key].push(figures[key]());
    }
    return Object.fromEntries(
        Object.entries<number[]>(samples).map(([key, values]) => [key, { median: median(values), fastest: Math.min(...values) }]),
    ) as Record<K, Timing>;
}

const once = (seconds: number): Timing => ({ median: seconds, fastest: seconds });

function wallSeconds(label: string, command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): number {
    const start = now();
    run(label, command, args, cwd, env);
    return (now() - start) / 1000;
}

/** A fresh, empty TypeScript cache (runtime/tsRequireHook.cjs) for `use`, removed afterwards. */
function withColdCache<T>(use: (env: NodeJS.ProcessEnv) => T): T {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "ts-cache-"));
    try {
        return use({ ...process.env, RECEIVER_TIER_TS_CACHE_DIR: cacheDir });
    } finally {
        fs.rmSync(cacheDir, { recursive: true, force: true });
    }
}

/** How the language host starts a TypeScript program by default, told not to type-check: for comparison. */
const TS_NODE_TRANSPILE_ONLY: RuntimeOptions = { typescript: true, transpileOnly: true };

/** Seconds from spawning the program as the language host does to its first registered resource. */
function programStartSeconds(projectDir: string, stack: string, start: StartOptions): number {
    const { seconds, stderr } = startToFirstResource(projectDir, stack, start);
    if (seconds === undefined) {
        throw new Error(`the program, started as the language host starts it, registered no resource:\n${stderr.slice(-2000)}`);
    }
    return seconds;
}

export interface DevLoop {
    readonly figures: Figure[];
    /** How Pulumi.yaml has the language host start the program. */
    readonly runtime: string;
}

/** The development loop's figures for one stack, measured in one run (issue 13's targets beside them). */
export function measureDevLoop(projectDir: string, stack: string, runs: number): DevLoop {
    const packageJson = JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as {
        dependencies: Record<string, string>;
    };
    const node = process.execPath;
    const bin = (...parts: string[]) => path.join(projectDir, "node_modules", ...parts);

    const planArgs = ["run", "-s", "plan", "--", "--stack", stack, "--format", "json"];
    const planOutput = run("npm run plan", "npm", planArgs, projectDir);
    const types = (JSON.parse(planOutput) as { resources: { type: string }[] }).resources.map((r) => r.type);
    const sdkScript = sdkLoadScript(Object.keys(packageJson.dependencies), types);

    // What the stack trace the SDK formats for every promise costs the start (pulumi itself keeps them).
    const runtime = runtimeOptions(projectDir);
    const noStackTraceRuntime: RuntimeOptions = { ...runtime, nodeargs: `${runtime.nodeargs ?? ""} --stack-trace-limit=0` };
    const { sdk, plan, planCold, start, startCold, tsNode, tsNodeCold, noStacks } = measureInRounds(runs, {
        sdk: () => wallSeconds("SDK load", node, ["-e", sdkScript], projectDir),
        plan: () => wallSeconds("npm run plan", "npm", planArgs, projectDir),
        planCold: () => withColdCache((env) => wallSeconds("npm run plan", "npm", planArgs, projectDir, env)),
        start: () => programStartSeconds(projectDir, stack, { cold: false }),
        startCold: () => programStartSeconds(projectDir, stack, { cold: true }),
        tsNode: () => programStartSeconds(projectDir, stack, { cold: false, runtime: TS_NODE_TRANSPILE_ONLY }),
        tsNodeCold: () => programStartSeconds(projectDir, stack, { cold: true, runtime: TS_NODE_TRANSPILE_ONLY }),
        noStacks: () => programStartSeconds(projectDir, stack, { cold: false, runtime: noStackTraceRuntime }),
    });
    const tsc = once(wallSeconds("tsc --noEmit", node, [bin("typescript", "bin", "tsc"), "--noEmit"], projectDir));
    const unit = once(wallSeconds("npm run test:unit", "npm", ["run", "-s", "test:unit"], projectDir));

    const vs = (label: string, base: Timing, seconds: Timing, target?: number) => ({
        label,
        ratio: { median: seconds.median / base.median, fastest: seconds.fastest / base.fastest },
        ...(target === undefined ? {} : { target }),
    });
    return {
        runtime: [
            `typescript: ${runtime.typescript}`,
            ...(runtime.typescript ? [`tsconfig: ${runtime.tsconfig ?? "tsconfig.json"}`] : []),
            ...(runtime.nodeargs ? [`nodeargs: ${runtime.nodeargs}`] : []),
        ].join(", "),
        figures: [
            { label: "tsc --noEmit", seconds: tsc, runs: 1 },
            { label: "SDK load (node requiring the SDK modules the program uses)", seconds: sdk, runs },
            { label: "npm run test:unit", seconds: unit, runs: 1, against: vs("tsc --noEmit", tsc, unit, 3) },
            { label: `npm run plan -- --stack ${stack}`, seconds: plan, runs, against: vs("SDK load", sdk, plan, 2) },
            { label: "the same, TypeScript cache empty", seconds: planCold, runs, against: vs("SDK load", sdk, planCold) },
            {
                label: `program start to first resource, as \`pulumi preview --stack ${stack}\` starts it`,
                seconds: start,
                runs,
                against: vs("SDK load", sdk, start, 2.5),
            },
            { label: "the same, TypeScript cache empty", seconds: startCold, runs, against: vs("SDK load", sdk, startCold) },
            {
                label: "the same through the language host's ts-node, transpiling only, for comparison",
                seconds: tsNode,
                runs,
                against: vs("SDK load", sdk, tsNode),
            },
            { label: "the same, ts-node's cache empty", seconds: tsNodeCold, runs, against: vs("SDK load", sdk, tsNodeCold) },
            {
                label: "the start with `--stack-trace-limit=0`, to size the SDK's per-promise stack traces (not how pulumi runs)",
                seconds: noStacks,
                runs,
                against: vs("SDK load", sdk, noStacks),
            },
        ],
    };
}

export function devLoopMarkdown(loop: DevLoop): string {
    const ratio = (f: Figure, of: keyof Timing) => (f.against ? `${f.against.ratio[of].toFixed(2)}x ${f.against.label}` : "");
    const rows = loop.figures.map(
        (f) =>
            `| ${f.label} | ${f.seconds.median.toFixed(2)} | ${f.seconds.fastest.toFixed(2)} | ${f.runs} | ${ratio(f, "median")} | ${ratio(f, "fastest")} | ${f.against?.target ? `<= ${f.against.target}x` : ""} |`,
    );
    return [
        `Language host options (Pulumi.yaml): ${loop.runtime}; ${os.cpus().length} CPUs, Node.js ${process.version}, load average ${os.loadavg()[0]?.toFixed(2)}.`,
        "",
        "| figure | median s | fastest s | runs | ratio of medians | ratio of fastest | target |",
        "|---|---|---|---|---|---|---|",
        ...rows,
        "",
    ].join("\n");
}

/**
 * A script that loads the SDKs as the program uses them: every @pulumi package the project depends on
 * (the policy pack's SDK aside: the program does not load it) and, of a package with lazily loaded
 * modules such as @pulumi/aws, each module a registered resource type comes from (`aws:ec2/...` -> `ec2`).
 */
export function sdkLoadScript(dependencies: readonly string[], resourceTypes: readonly string[]): string {
    const packages = dependencies.filter((name) => name.startsWith("@pulumi/") && name !== "@pulumi/policy");
    const modules = new Set(
        resourceTypes
            .map((type) => /^([a-z0-9-]+):([a-zA-Z0-9]+)\//.exec(type))
            .filter((match): match is RegExpExecArray => match !== null && packages.includes(`@pulumi/${match[1]}`) && match[2] !== "index")
            .map((match) => `require(${JSON.stringify(`@pulumi/${match[1]}`)})[${JSON.stringify(match[2])}];`),
    );
    return [...packages.map((name) => `require(${JSON.stringify(name)});`), ...[...modules].sort()].join("\n");
}
