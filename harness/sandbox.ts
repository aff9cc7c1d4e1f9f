import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The unprivileged account the tier's programs run as when started by root (initdb and pgbouncer refuse root). */
export const SERVICE_USER = "postgres";

export interface UnixAccount {
    readonly uid: number;
    readonly gid: number;
}

/** uid/gid of a local account, from /etc/passwd. */
export function unixAccount(name: string): UnixAccount {
    const line = fs
        .readFileSync("/etc/passwd", "utf8")
        .split("\n")
        .find((l) => l.split(":")[0] === name);
    if (!line) {
        throw new Error(`no local account ${name}: install postgresql-15 (it creates the postgres user)`);
    }
    const fields = line.split(":");
    return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** Who runs the tier's programs: SERVICE_USER when the caller is root, else the caller itself. */
export function serviceAccount(): UnixAccount {
    const uid = process.getuid?.() ?? 0;
    return uid === 0 ? unixAccount(SERVICE_USER) : { uid, gid: process.getgid?.() ?? uid };
}

/**
 * Throws unless `account` can use `dir` (`-w`: write, `-r`: read) and reach it: a parent closed to
 * the account (such as /root) would otherwise stop each program with a less helpful error.
 */
export function assertReachable(account: UnixAccount, dir: string, access: "-w" | "-r"): void {
    const probe = spawnSync("test", [access, dir, "-a", "-x", dir], { uid: account.uid, gid: account.gid });
    if (probe.status !== 0) {
        throw new Error(
            `${dir} is out of reach for uid ${account.uid}, which runs the tier's programs (a parent directory is closed to it): ` +
                "use a directory it can reach",
        );
    }
}

/**
 * The directory everything the tier writes lives in, owned by the service account (mode 0700):
 * a fresh temp dir (`Sandbox.temp`), or a persistent state dir (`Sandbox.at`) whose kept
 * entries (the database) survive `remove()`.
 */
export class Sandbox {
    readonly account: UnixAccount = serviceAccount();

    private constructor(
        readonly dir: string,
        private readonly keep: readonly string[] | undefined,
    ) {
        fs.chmodSync(this.dir, 0o700);
        fs.chownSync(this.dir, this.account.uid, this.account.gid);
    }

    /** A new temp dir, removed entirely by `remove()`. */
    static temp(prefix = "receiver-tier-it-"): Sandbox {
        return new Sandbox(fs.mkdtempSync(path.join(os.tmpdir(), prefix)), undefined);
    }

    /** `dir` (created if missing); `remove()` empties it except the `keep` entries. */
    static at(dir: string, keep: readonly string[]): Sandbox {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        const sandbox = new Sandbox(path.resolve(dir), keep);
        assertReachable(sandbox.account, sandbox.dir, "-w");
        return sandbox;
    }

    /** A path inside the sandbox. */
    path(...parts: string[]): string {
        return path.join(this.dir, ...parts);
    }

    /** Makes a directory owned by the service account. */
    mkdir(name: string, mode = 0o700): string {
        const dir = this.path(name);
        fs.mkdirSync(dir, { recursive: true, mode });
        fs.chownSync(dir, this.account.uid, this.account.gid);
        return dir;
    }

    /** Writes a file owned by the service account. */
    write(name: string, content: string, mode = 0o600): string {
        const file = this.path(name);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content, { mode });
        fs.chmodSync(file, mode);
        fs.chownSync(file, this.account.uid, this.account.gid);
        return file;
    }

    /** Removes what the tier wrote (a temp dir is kept when RECEIVER_TIER_IT_KEEP=1, for debugging). */
    remove(): void {
        if (this.keep === undefined) {
            if (process.env.RECEIVER_TIER_IT_KEEP === "1") return;
            fs.rmSync(this.dir, { recursive: true, force: true });
            return;
        }
        for (const entry of fs.readdirSync(this.dir)) {
            if (!this.keep.includes(entry)) fs.rmSync(this.path(entry), { recursive: true, force: true });
        }
    }
}
