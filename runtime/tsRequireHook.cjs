// How TypeScript runs here, one way for all: the npm scripts (`node --require ./runtime/tsRequireHook.cjs
// scripts/<command>.ts`) and `pulumi preview`/`up` (Pulumi.yaml nodeargs). esbuild strips the types of each
// project file as Node requires it; Node's own loading is unchanged. Types are checked by `tsc --noEmit` in
// `npm test` (tsconfig.json's isolatedModules keeps every file compilable on its own). Under Pulumi, stack
// traces show the .ts lines (see joinSourceMapSupport); in the npm scripts they show the compiled lines unless
// NODE_OPTIONS=--enable-source-maps, which costs every stack trace a lookup.
//
// Output is cached by content (the source, its file name, esbuild's version and these options), so only a
// changed file is compiled again and a cache hit does not load esbuild at all. RECEIVER_TIER_TS_CACHE_DIR
// moves the cache (default node_modules/.cache/receiver-tier-ts); a cache that cannot be written is skipped.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const projectDir = path.join(__dirname, "..");
const cacheDir = process.env.RECEIVER_TIER_TS_CACHE_DIR || path.join(projectDir, "node_modules", ".cache", "receiver-tier-ts");
const esbuildVersion = require("esbuild/package.json").version;

function transformOptions(filename) {
    return {
        loader: "ts",
        format: "cjs",
        target: "node20",
        // Relative to the file itself, so the same source compiles alike in every checkout (plan --diff's too).
        sourcefile: path.basename(filename),
        sourcemap: "inline",
        // The project compiles to CommonJS (tsconfig.json): import() becomes require, as tsc emits it.
        supported: { "dynamic-import": false },
    };
}

function compile(source, filename) {
    const options = transformOptions(filename);
    const key = crypto
        .createHash("sha256")
        .update(JSON.stringify([esbuildVersion, options, source]))
        .digest("hex");
    const cached = path.join(cacheDir, `${key}.js`);
    try {
        return fs.readFileSync(cached, "utf8");
    } catch {
        const { code } = require("esbuild").transformSync(source, options);
        try {
            fs.mkdirSync(cacheDir, { recursive: true });
            // Written whole, then renamed: processes compiling the same file at once never read half of it.
            const partial = `${cached}.${process.pid}.tmp`;
            fs.writeFileSync(partial, code);
            fs.renameSync(partial, cached);
        } catch {
            // Read-only checkout or node_modules: compile every time.
        }
        return code;
    }
}

/** The compiled code of each file, kept only while source-map-support reads it (under Pulumi). */
let compiled;

// Pulumi's cmd/run maps stack traces through source-map-support, which would read the .ts file from disk and
// find no map there: hand it the compiled code, whose inline map points at the .ts lines.
let sourceMapSupportJoined = false;
function joinSourceMapSupport() {
    sourceMapSupportJoined = true;
    let sourceMapSupport;
    try {
        // The copy cmd/run loads: resolved from @pulumi/pulumi, as cmd/run resolves it.
        const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
        sourceMapSupport = require.resolve("source-map-support", { paths: [sdkDir] });
    } catch {
        return;
    }
    if (!require.cache[sourceMapSupport]) return;
    compiled = new Map();
    require(sourceMapSupport).install({ retrieveFile: (file) => compiled.get(file) ?? null });
    if (!process.env.PULUMI_DEBUG_PROMISE_LEAKS) formatSdkPromiseTracesPlainly(Error.prepareStackTrace);
}

// The SDK captures a stack trace for every promise it makes (four per output property, ~7,800 for canary),
// which only its leaked-promise report reads, and only with PULUMI_DEBUG_PROMISE_LEAKS set. source-map-support
// copies every frame of every trace it formats: those traces were most of the program's start. Without that
// variable they keep V8's own, unmapped format, which costs next to nothing; every other trace (the program's
// errors, the SDK's resource source positions) is mapped as before.
const SDK_PROMISE_TRACE = { functionName: "debuggablePromise", file: /[\\/]@pulumi[\\/]pulumi[\\/]runtime[\\/]debuggable\.js$/ };

function formatSdkPromiseTracesPlainly(mapped) {
    if (typeof mapped !== "function") return;
    Error.prepareStackTrace = function prepareStackTrace(error, frames) {
        const top = frames[0];
        if (top?.getFunctionName() === SDK_PROMISE_TRACE.functionName && SDK_PROMISE_TRACE.file.test(top.getFileName() ?? "")) {
            return `${error}\n${frames.map((frame) => `    at ${frame}`).join("\n")}`;
        }
        return mapped(error, frames);
    };
}

require.extensions[".ts"] = function compileTypeScript(module, filename) {
    if (!sourceMapSupportJoined) joinSourceMapSupport();
    const code = compile(fs.readFileSync(filename, "utf8"), filename);
    compiled?.set(filename, code);
    module._compile(code, filename);
};
