import * as fs from "fs";
import { CONFIG_NAMESPACE } from "../components/schema/schema";
import { loadStackConfig, readStackFile } from "../components/config/stackFile";
import { renderImportPlan } from "../components/render/importPlan";
import { command, main, optional, required, text, projectDirOption } from "./args";

export const importPlanCommand = command({
    spec: {
        name: "import-plan",
        summary:
            "Writes the `pulumi import --file` document for the resources a stack adopts (receiver-tier:adopt): the roles and both DNS records made by hand.",
        options: {
            stack: required("<name>", "stack whose adopt ids to write (Pulumi.<name>.yaml)", text),
            out: optional("<file>", "where to write it (default: import-<stack>.json)", text),
            "project-dir": projectDirOption,
        },
        examples: ["npm run -s import-plan -- --stack canary"],
    },
    async run(values, io) {
        const stack = values.stack;
        const out = values.out ?? `import-${stack}.json`;
        const { config } = loadStackConfig(readStackFile(values["project-dir"], stack));
        const plan = renderImportPlan(config, stack, CONFIG_NAMESPACE);
        const imported = plan.resources.filter((entry) => entry.id !== undefined);
        if (imported.length === 0) {
            throw new Error(
                `no adopt ids in Pulumi.${stack}.yaml: set ${CONFIG_NAMESPACE}:adopt (README "First deploy into an existing environment")`,
            );
        }
        fs.writeFileSync(out, JSON.stringify(plan, null, 2) + "\n");
        io.stdout(`wrote ${out}: ${imported.map((entry) => `${entry.name} (${entry.id})`).join(", ") || "nothing"}\n`);
        io.stdout(`then: pulumi import --stack ${stack} --file ${out} --protect=false\n`);
        return 0;
    },
});

if (require.main === module) main(importPlanCommand);
