import { createHash, createHmac } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * The CA bundle as a file for the PostgreSQL provider's `sslrootcert`, which takes a path only and keeps
 * it in the stack's state. In the shared temp directory a name anyone can compute (the bundle is public)
 * could be planted or swapped by another user, and the provider would then trust whatever CA the file
 * holds. So the file lives in a directory only this user can enter (0700, owned by this user, not a
 * symlink), whose name is keyed with the admin password: no other user can compute it, yet every run
 * with the same password and bundle gives the same path, so the provider's config does not change from
 * one `pulumi up` to the next.
 */
export function caBundleFile(pem: string, key: string, baseDir: string = os.tmpdir()): string {
    const uid = process.getuid?.() ?? 0;
    const dirName = createHmac("sha256", key).update(`receiver-tier sslrootcert directory of uid ${uid}`).digest("hex").slice(0, 32);
    const dir = path.join(baseDir, `receiver-tier-${dirName}`);
    privateDirectory(dir, uid);
    const file = path.join(dir, `ca-${createHash("sha256").update(pem).digest("hex").slice(0, 16)}.pem`);
    if (!holds(file, pem, uid)) {
        // Written aside and renamed over: a symlink or foreign file at `file` is replaced, never followed.
        const staged = `${file}.${process.pid}.tmp`;
        fs.rmSync(staged, { force: true });
        fs.writeFileSync(staged, pem, { mode: 0o600, flag: "wx" });
        fs.renameSync(staged, file);
    }
    return file;
}

function privateDirectory(dir: string, uid: number): void {
    try {
        fs.mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const stat = fs.lstatSync(dir);
    const problem = !stat.isDirectory()
        ? "is not a directory"
        : process.getuid !== undefined && stat.uid !== uid
          ? `belongs to uid ${stat.uid}, not ${uid}`
          : (stat.mode & 0o077) !== 0
            ? `has mode ${(stat.mode & 0o777).toString(8)}, not 700`
            : undefined;
    if (problem !== undefined) {
        throw new Error(`${dir} ${problem}: refusing to keep the PostgreSQL provider's CA bundle (sslrootcert) there`);
    }
}

function holds(file: string, pem: string, uid: number): boolean {
    try {
        const stat = fs.lstatSync(file);
        return stat.isFile() && stat.uid === uid && (stat.mode & 0o777) === 0o600 && fs.readFileSync(file, "utf8") === pem;
    } catch {
        return false;
    }
}
