import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
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
        if (!fs.existsSync(path.join(dir, "scripts", "plan.ts"))) {
            throw new Error(`${ref} has no scripts/plan.ts: it predates the offline plan`);
        }
        if (!fs.existsSync(path.join(dir, `Pulumi.${stack}.yaml`))) {
            removeDir();
            return Promise.resolve({ stack, resources: [], outputs: {} });
        }
        fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(dir, "node_modules"));
    } catch (err) {
        removeDir();
        throw err;
    }
    return new Promise<Plan>((resolve, reject) => {
        // This checkout's TypeScript hook runs it, whatever the commit had. Its stderr is captured and
        // reported once, in the error, not also streamed through.
        const child = spawn(
            process.execPath,
            ["--require", path.join(projectDir, "scripts", "tsRequireHook.cjs"), "scripts/plan.ts", "--stack", stack, "--format", "json"],
            {
                cwd: dir,
                env,
                signal,
                stdio: ["ignore", "pipe", "pipe"],
            },
        );
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
        child.on("error", reject);
        child.on("close", (status, signal) => {
            if (status !== 0 && status !== POLICY_VIOLATION_EXIT) {
                const why = Buffer.concat(stderr).toString("utf8").trim() || `exit status ${status ?? signal}`;
                reject(new Error(`the plan at ${ref} failed:\n${why}`));
            } else {
                resolve(JSON.parse(Buffer.concat(stdout).toString("utf8")) as Plan);
            }
        });
    }).finally(removeDir);
}
