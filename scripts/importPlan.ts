import * as fs from "fs";
import * as path from "path";
import { parseTierConfig } from "../components/config/load";
import { CONFIG_NAMESPACE } from "../components/config/schema";
import { readStackFile } from "../components/config/stackFile";
import { renderImportPlan } from "../components/render/importPlan";
import { parseArgs, requireArg } from "./args";

const USAGE = "npm run import-plan -- --stack <name> [--out <file>] [--project-dir <dir>]";

function main(): void {
    const args = parseArgs(process.argv.slice(2));
    const stack = requireArg(args, "stack", USAGE);
    const out = args.get("out") ?? `import-${stack}.json`;
    const projectDir = args.get("project-dir") ?? path.resolve(__dirname, "..");
    const { config } = parseTierConfig(readStackFile(projectDir, stack).raw);
    const plan = renderImportPlan(config, stack, CONFIG_NAMESPACE);
    const imported = plan.resources.filter((entry) => entry.id !== undefined);
    if (imported.length === 0 && config.adopt.databaseSetting === undefined) {
        throw new Error(
            `no adopt ids in Pulumi.${stack}.yaml: set ${CONFIG_NAMESPACE}:adopt (README "First deploy into an existing environment")`,
        );
    }
    fs.writeFileSync(out, JSON.stringify(plan, null, 2) + "\n");
    process.stdout.write(`wrote ${out}: ${imported.map((entry) => `${entry.name} (${entry.id})`).join(", ") || "nothing"}\n`);
    process.stdout.write(`then: pulumi import --stack ${stack} --file ${out} --protect=false\n`);
    if (config.adopt.databaseSetting !== undefined) {
        process.stdout.write(
            `${CONFIG_NAMESPACE}:adopt.databaseSetting (${config.adopt.databaseSetting}) is a dynamic resource: \`pulumi up\` imports it with the import option\n`,
        );
    }
}

try {
    main();
} catch (err: unknown) {
    process.stderr.write(`import-plan failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
}
