import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Plan } from "./describe";

/**
 * The plan of a stack at another commit: that commit's files are exported into a temporary
 * folder (sharing this checkout's node_modules) and its own plan command runs there.
 */
export function planAtRef(projectDir: string, ref: string, stack: string, env: NodeJS.ProcessEnv): Plan {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-plan-"));
    try {
        const archive = execFileSync("git", ["archive", "--format=tar", ref], { cwd: projectDir, maxBuffer: 256 * 1024 * 1024 });
        execFileSync("tar", ["-x", "-C", dir], { input: archive });
        if (!fs.existsSync(path.join(dir, "scripts", "plan.ts"))) {
            throw new Error(`${ref} has no scripts/plan.ts: it predates the offline plan`);
        }
        fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(dir, "node_modules"));
        const tsx = path.join(projectDir, "node_modules", ".bin", "tsx");
        const json = execFileSync(tsx, ["scripts/plan.ts", "--stack", stack, "--format", "json"], {
            cwd: dir,
            env,
            maxBuffer: 64 * 1024 * 1024,
        });
        return JSON.parse(json.toString("utf8")) as Plan;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
