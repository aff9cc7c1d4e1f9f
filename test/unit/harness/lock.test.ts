import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterEach, describe, expect, it } from "vitest";
import { LOCK_FILE, lockStateDir, StateDirInUse, stateDirOwner } from "../../../harness/lock";

const dirs: string[] = [];
const stateDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-lock-"));
    dirs.push(dir);
    return path.join(dir, "state");
};
afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("state dir lock", () => {
    it("admits one holder at a time and names it to the next", () => {
        const dir = stateDir();
        const release = lockStateDir(dir);
        expect(stateDirOwner(dir)).toBe(process.pid);
        expect(() => lockStateDir(dir)).toThrow(StateDirInUse);
        try {
            lockStateDir(dir);
        } catch (err) {
            expect((err as StateDirInUse).pid).toBe(process.pid);
        }
        release();
        expect(stateDirOwner(dir)).toBeUndefined();
        lockStateDir(dir)();
    });

    it("takes over the lock of a process that is gone", () => {
        const dir = stateDir();
        const gone = spawnSync("true").pid as number;
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, LOCK_FILE), `${gone} 12345\n`);
        expect(stateDirOwner(dir)).toBeUndefined();
        const release = lockStateDir(dir);
        expect(stateDirOwner(dir)).toBe(process.pid);
        release();
    });

    it("treats a live PID with another start time as a stale lock (the PID was reused)", () => {
        const dir = stateDir();
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, LOCK_FILE), `${process.pid} 1\n`);
        expect(stateDirOwner(dir)).toBeUndefined();
        lockStateDir(dir)();
    });

    it("release leaves a lock it does not hold alone", () => {
        const dir = stateDir();
        const release = lockStateDir(dir);
        fs.writeFileSync(path.join(dir, LOCK_FILE), "1 1\n");
        release();
        expect(fs.readFileSync(path.join(dir, LOCK_FILE), "utf8")).toBe("1 1\n");
    });
});
