import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TS_HOOK_NODE_ARGS } from "../../../runtime/typeScriptChild";

// runtime/tsRequireHook.cjs: how the npm scripts and `pulumi preview`/`up` (Pulumi.yaml nodeargs) run TypeScript.

let dir: string;
beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ts-hook-"));
});
afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs `code` in node with the hook, its cache in `cacheDir`; what the code printed. */
function nodeWithHook(code: string, cacheDir: string, env: NodeJS.ProcessEnv = {}): string {
    const { PULUMI_DEBUG_PROMISE_LEAKS: _leakReport, ...inherited } = process.env;
    const result = spawnSync(process.execPath, [...TS_HOOK_NODE_ARGS, "-e", code], {
        cwd: dir,
        env: { ...inherited, ...env, RECEIVER_TIER_TS_CACHE_DIR: cacheDir },
        encoding: "utf8",
    });
    if (result.status !== 0) throw new Error(result.stderr);
    return result.stdout.trim();
}

describe("the TypeScript require hook", () => {
    it("compiles a file once: a cached file loads without esbuild, a changed one compiles again", () => {
        const file = path.join(dir, "value.ts");
        const cacheDir = path.join(dir, "cache");
        const load = () =>
            JSON.parse(
                nodeWithHook(
                    `const { value } = require(${JSON.stringify(file)});
                     const esbuildLoaded = Object.keys(require.cache).some((m) => m.includes("/node_modules/esbuild/lib/"));
                     console.log(JSON.stringify({ value, esbuildLoaded }));`,
                    cacheDir,
                ),
            ) as { value: number; esbuildLoaded: boolean };

        fs.writeFileSync(file, "export const value: number = 1;\n");
        expect(load()).toEqual({ value: 1, esbuildLoaded: true });
        expect(load()).toEqual({ value: 1, esbuildLoaded: false });
        fs.writeFileSync(file, "export const value: number = 2;\n");
        expect(load()).toEqual({ value: 2, esbuildLoaded: true });
    });

    it("gives source-map-support, which Pulumi's cmd/run installs, the .ts line of each frame", () => {
        const file = path.join(dir, "boom.ts");
        fs.writeFileSync(
            file,
            [
                "interface Reason {",
                "    readonly text: string;",
                "}",
                "export function boom(reason: Reason): never {",
                "    throw new Error(reason.text);",
                "}",
                "",
            ].join("\n"),
        );
        const stack = nodeWithHook(
            `require(${JSON.stringify(require.resolve("source-map-support/register"))});
             try { require(${JSON.stringify(file)}).boom({ text: "boom" }); } catch (err) { console.log(err.stack); }`,
            path.join(dir, "cache"),
        );
        expect(stack).toContain(`${file}:5:11`);
    });

    it("leaves the SDK's per-promise stack traces unmapped, unless PULUMI_DEBUG_PROMISE_LEAKS asks for its leak report", () => {
        const file = path.join(dir, "value.ts");
        fs.writeFileSync(file, "export const value: number = 4;\n");
        const promiseTrace = (env: NodeJS.ProcessEnv) =>
            nodeWithHook(
                `require(${JSON.stringify(require.resolve("source-map-support/register"))});
                 require(${JSON.stringify(file)});
                 const { debuggablePromise } = require(${JSON.stringify(require.resolve("@pulumi/pulumi/runtime/debuggable"))});
                 const promise = Promise.resolve();
                 debuggablePromise(promise, "test");
                 console.log(promise._debugStackTrace.split("\\n")[1]);`,
                path.join(dir, "cache"),
                env,
            );
        // The SDK ships runtime/debuggable.js with a source map to runtime/debuggable.ts.
        expect(promiseTrace({})).toMatch(/at debuggablePromise \(.*runtime\/debuggable\.js:\d+:\d+\)$/);
        expect(promiseTrace({ PULUMI_DEBUG_PROMISE_LEAKS: "1" })).toMatch(/at debuggablePromise \(.*runtime\/debuggable\.ts:\d+:\d+\)$/);
    });

    it("runs from a cache it cannot write", () => {
        const file = path.join(dir, "value.ts");
        fs.writeFileSync(file, "export const value: number = 3;\n");
        const notADirectory = path.join(dir, "file");
        fs.writeFileSync(notADirectory, "");
        expect(nodeWithHook(`console.log(require(${JSON.stringify(file)}).value)`, notADirectory)).toBe("3");
    });
});
