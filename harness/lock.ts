import * as fs from "fs";
import * as path from "path";
import { isAlive, processStartTime } from "./pids";

/** The lock file inside a state dir: "<pid> <start time>" of the process that owns the dir. */
export const LOCK_FILE = "lock";

/** Another live process owns the state dir. */
export class StateDirInUse extends Error {
    constructor(
        readonly dir: string,
        readonly pid: number,
    ) {
        super(`${dir} is in use by process ${pid}`);
        this.name = "StateDirInUse";
    }
}

function owner(lockPath: string): number | undefined {
    try {
        const [pid, started] = fs.readFileSync(lockPath, "utf8").trim().split(" ");
        const value = Number(pid);
        // A PID reused by an unrelated process has another start time: the lock is stale.
        return isAlive(value) && processStartTime(value) === started ? value : undefined;
    } catch {
        return undefined;
    }
}

/** The live process that holds the state dir, if any. */
export function stateDirOwner(dir: string): number | undefined {
    return owner(path.join(dir, LOCK_FILE));
}

/**
 * Takes the state dir for this process (creating the dir), taking over a lock whose owner is
 * gone; throws StateDirInUse while its owner runs. Returns the release function.
 */
export function lockStateDir(dir: string): () => void {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const lockPath = path.join(dir, LOCK_FILE);
    const mine = `${process.pid} ${processStartTime(process.pid)}\n`;
    const release = () => {
        if (fs.existsSync(lockPath) && fs.readFileSync(lockPath, "utf8") === mine) fs.rmSync(lockPath);
    };
    for (let attempt = 0; attempt < 3; attempt++) {
        try {
            fs.writeFileSync(lockPath, mine, { flag: "wx", mode: 0o644 });
            return release;
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
            const pid = owner(lockPath);
            if (pid !== undefined) throw new StateDirInUse(dir, pid);
            fs.rmSync(lockPath, { force: true });
        }
    }
    throw new Error(`could not take ${lockPath}: another process keeps replacing it`);
}
