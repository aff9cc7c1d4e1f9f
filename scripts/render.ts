import * as fs from "fs";
import * as path from "path";
import { formatProblems } from "../components/config/problems";
import { parseArgs, requireArg } from "./args";
import { PRIVATE_FILES, RenderedFiles, renderStack } from "./renderStack";

const USAGE = "npm run render -- --stack <name> --out <dir> [--project-dir <dir with Pulumi.<stack>.yaml>]";

function main(): void {
    const args = parseArgs(process.argv.slice(2));
    const stack = requireArg(args, "stack", USAGE);
    const outDir = path.resolve(requireArg(args, "out", USAGE));
    const projectDir = path.resolve(args.get("project-dir") ?? path.resolve(__dirname, ".."));
    const { files, warnings } = renderStack(projectDir, stack, process.env);
    if (warnings.length > 0) {
        process.stderr.write(`warnings:\n${formatProblems(warnings)}\n`);
    }
    fs.mkdirSync(outDir, { recursive: true });
    for (const [name, content] of Object.entries(files) as [keyof RenderedFiles, string][]) {
        const mode = PRIVATE_FILES.includes(name) ? 0o600 : 0o644;
        fs.writeFileSync(path.join(outDir, name), content, { mode });
        fs.chmodSync(path.join(outDir, name), mode);
    }
    process.stdout.write(`rendered stack ${stack} into ${outDir}: ${Object.keys(files).join(", ")}\n`);
}

try {
    main();
} catch (err) {
    process.stderr.write(`render failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
}
