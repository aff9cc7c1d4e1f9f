// `node --require ./scripts/tsRequireHook.cjs scripts/<command>.ts`: how the npm scripts run TypeScript.
// esbuild strips the types of each project file as Node requires it; nothing else of Node's loading
// changes (tsx's resolver hooks and loader thread cost a third of `npm run plan`). Types are checked by
// `tsc --noEmit` in `npm test`. Stack traces show the transpiled code; NODE_OPTIONS=--enable-source-maps
// maps them back to the .ts lines (the inline maps are there), at a cost in every stack trace.
"use strict";
const fs = require("fs");
const esbuild = require("esbuild");

require.extensions[".ts"] = function compileTypeScript(module, filename) {
    const { code } = esbuild.transformSync(fs.readFileSync(filename, "utf8"), {
        loader: "ts",
        format: "cjs",
        target: "node20",
        sourcefile: filename,
        sourcemap: "inline",
        // The project compiles to CommonJS (tsconfig.json): import() becomes require, as tsc emits it.
        supported: { "dynamic-import": false },
    });
    module._compile(code, filename);
};
