import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runTypeScript } from "../runtime/typeScriptChild";
import { Plan } from "./describe";

/** Exit status of a plan whose resources violate a mandatory policy: its JSON is still complete. */
export const POLICY_VIOLATION_EXIT = 3;

/**
 * The plan of a stack at another commit: that commit's files are exported into a temporary
 * folder (sharing this checkout's node_modules) and its own plan command runs there, in a child
 * process that runs while the caller plans the working tree. A stack the commit does not have yet
 * plans as empty, so everything shows as added. A ref git cannot export fails at once.
 */
export function planAtRef(projectDir: string, ref: string, stack: string, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<Plan> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-plan-"));
    const removeDir = () => fs.rmSync(dir, { recursive: true, force: true });
    try {
        const archive = spawnSync("git", ["archive", "--format=tar", ref], { cwd: projectDir, maxBuffer: 256 * 1024 * 1024 });
        if (archive.status !== 0) throw new Error(`git archive ${ref}: ${archive.stderr.toString("utf8").trim()}`);
        execFileSync("tar", ["-x", "-C", dir], { input: archive.stdout });
        if (!fs.existsSync(path.join(dir, `Pulumi.${stack}.yaml`))) {
            removeDir();
            return Promise.resolve({ stack, resources: [], outputs: {}, violations: [] });
        }
        fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(dir, "node_modules"));
    } catch (err) {
        removeDir();
        throw err;
    }
    // This checkout's TypeScript hook runs it, whatever the commit had.
    return runTypeScript("scripts/plan.ts", ["--stack", stack, "--format", "json"], { cwd: dir, env, signal })
        .then((child) => {
            if (child.status !== 0 && child.status !== POLICY_VIOLATION_EXIT) {
                throw new Error(`the plan at ${ref} failed:\n${child.stderr.trim() || `exit status ${child.status ?? child.signal}`}`);
            }
            return JSON.parse(child.stdout) as Plan;
        })
        .finally(removeDir);
}
