import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Plan } from "./describe";

/** Exit status of a plan whose resources violate a mandatory policy: its JSON is still complete. */
export const POLICY_VIOLATION_EXIT = 3;

/**
 * The plan of a stack at another commit: that commit's files are exported into a temporary
 * folder (sharing this checkout's node_modules) and its own plan command runs there. A stack
 * the commit does not have yet plans as empty, so everything shows as added.
 */
export function planAtRef(projectDir: string, ref: string, stack: string, env: NodeJS.ProcessEnv): Plan {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-plan-"));
    try {
        const archive = spawnSync("git", ["archive", "--format=tar", ref], { cwd: projectDir, maxBuffer: 256 * 1024 * 1024 });
        if (archive.status !== 0) throw new Error(`git archive ${ref}: ${archive.stderr.toString("utf8").trim()}`);
        execFileSync("tar", ["-x", "-C", dir], { input: archive.stdout });
        if (!fs.existsSync(path.join(dir, "scripts", "plan.ts"))) {
            throw new Error(`${ref} has no scripts/plan.ts: it predates the offline plan`);
        }
        if (!fs.existsSync(path.join(dir, `Pulumi.${stack}.yaml`))) {
            return { stack, resources: [], outputs: {} };
        }
        fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(dir, "node_modules"));
        // Its stderr is captured and reported once, in the error, not also streamed through.
        const child = spawnSync(process.execPath, ["--import", "tsx", "scripts/plan.ts", "--stack", stack, "--format", "json"], {
            cwd: dir,
            env,
            maxBuffer: 64 * 1024 * 1024,
            stdio: ["ignore", "pipe", "pipe"],
        });
        if (child.status !== 0 && child.status !== POLICY_VIOLATION_EXIT) {
            const why = child.stderr.toString("utf8").trim() || `exit status ${child.status ?? child.signal}`;
            throw new Error(`the plan at ${ref} failed:\n${why}`);
        }
        return JSON.parse(child.stdout.toString("utf8")) as Plan;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
