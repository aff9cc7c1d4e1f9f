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
    // All five are written beside their targets first, then renamed: a failed write leaves the old set.
    const staged = (Object.entries(files) as [keyof RenderedFiles, string][]).map(([name, content]) => {
        const target = path.join(outDir, name);
        const temp = `${target}.${process.pid}.tmp`;
        const mode = PRIVATE_FILES.includes(name) ? 0o600 : 0o644;
        fs.writeFileSync(temp, content, { mode });
        fs.chmodSync(temp, mode);
        return [temp, target] as const;
    });
    for (const [temp, target] of staged) fs.renameSync(temp, target);
    process.stdout.write(`rendered stack ${stack} into ${outDir}: ${Object.keys(files).join(", ")}\n`);
}

try {
    main();
} catch (err) {
    process.stderr.write(`render failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
}
