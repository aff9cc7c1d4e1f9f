import * as fs from "fs";
import * as path from "path";
import { formatProblems } from "../components/schema/problems";
import { command, main, outputDirectory, required, text, projectDirOption } from "./args";
import { formatViolations, mandatoryViolations } from "../policy/offline";
import { PRIVATE_FILES, TierFiles } from "../components/render/tierFiles";
import { renderStack } from "../offline/renderStack";

export const renderCommand = command({
    spec: {
        name: "render",
        summary:
            "Validates a stack's config and writes its six files (pgbouncer.ini, userlist.txt, gunicorn.conf.py, nginx.conf, receiver.env, database.sql) offline. The two with secrets are mode 0600; nothing is written when the config or the policy pack refuses the stack.",
        options: {
            stack: required("<name>", "stack to render (Pulumi.<name>.yaml)", text),
            out: required("<dir>", "directory to write into (created if missing; not empty, not a file)", outputDirectory),
            "project-dir": projectDirOption,
        },
        examples: [
            "npm run -s render -- --stack local --out /tmp/receiver-tier-local",
            `PULUMI_CONFIG='{"receiver-tier:receiverPasswordA":"...",...}' npm run -s render -- --stack canary --out /tmp/receiver-tier-canary`,
        ],
        exitCodes: ["1  invalid config, missing secrets, a mandatory policy violation, or a failed write"],
    },
    async run(values, io) {
        const { files, warnings, violations } = renderStack(values["project-dir"], values.stack, process.env);
        if (warnings.length > 0) io.stderr(`warnings:\n${formatProblems(warnings)}\n`);
        if (mandatoryViolations(violations).length > 0) {
            io.stderr(`the policy pack refuses stack ${values.stack}; nothing written:\n${formatViolations(violations)}\n`);
            return 1;
        }
        const outDir = values.out;
        fs.mkdirSync(outDir, { recursive: true });
        // All six are written beside their targets first, then renamed: a failed write leaves the old set.
        const staged = (Object.entries(files) as [keyof TierFiles, string][]).map(([name, content]) => {
            const target = path.join(outDir, name);
            const temp = `${target}.${process.pid}.tmp`;
            const mode = PRIVATE_FILES.includes(name) ? 0o600 : 0o644;
            fs.writeFileSync(temp, content, { mode });
            fs.chmodSync(temp, mode);
            return [temp, target] as const;
        });
        for (const [temp, target] of staged) fs.renameSync(temp, target);
        io.stdout(`rendered stack ${values.stack} into ${outDir}: ${Object.keys(files).join(", ")}\n`);
        return 0;
    },
});

if (require.main === module) main(renderCommand);
