import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { caBundleFile } from "../../../../components/postgres/caBundleFile";

// The PostgreSQL provider trusts whatever CA the file at its sslrootcert path holds: that file must be
// out of other users' reach, at a name they cannot compute, and at the same path on every run.

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
let base: string;

beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), "ca-bundle-test-"));
});
afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

const mode = (p: string) => fs.lstatSync(p).mode & 0o777;

describe("caBundleFile", () => {
    it("writes the bundle 0600 into a 0700 directory of its own, at the same path every run", () => {
        const file = caBundleFile(PEM, "admin-password", base);
        expect(fs.readFileSync(file, "utf8")).toBe(PEM);
        expect(mode(file)).toBe(0o600);
        expect(path.dirname(path.dirname(file))).toBe(base);
        expect(mode(path.dirname(file))).toBe(0o700);
        expect(caBundleFile(PEM, "admin-password", base)).toBe(file);
    });

    it("names the directory by a key, so the bundle alone does not tell where it is", () => {
        const one = caBundleFile(PEM, "admin-password", base);
        const other = caBundleFile(PEM, "another-password", base);
        expect(path.dirname(one)).not.toBe(path.dirname(other));
        expect(path.basename(path.dirname(one))).not.toContain(path.basename(one).replace(/^ca-|\.pem$/g, ""));
    });

    it("refuses a directory others may write to, or a symlink in its place", () => {
        const dir = path.dirname(caBundleFile(PEM, "k", base));
        fs.chmodSync(dir, 0o777);
        expect(() => caBundleFile(PEM, "k", base)).toThrow(/mode 777, not 700/);
        fs.rmSync(dir, { recursive: true });
        const elsewhere = fs.mkdtempSync(path.join(base, "elsewhere-"));
        fs.symlinkSync(elsewhere, dir);
        expect(() => caBundleFile(PEM, "k", base)).toThrow(/is not a directory/);
    });

    it("replaces a planted file or symlink instead of trusting or following it", () => {
        const file = caBundleFile(PEM, "k", base);
        const decoy = path.join(base, "decoy.pem");
        fs.writeFileSync(decoy, "attacker CA\n");
        fs.rmSync(file);
        fs.symlinkSync(decoy, file);
        expect(caBundleFile(PEM, "k", base)).toBe(file);
        expect(fs.lstatSync(file).isSymbolicLink()).toBe(false);
        expect(fs.readFileSync(file, "utf8")).toBe(PEM);
        expect(fs.readFileSync(decoy, "utf8")).toBe("attacker CA\n");
        fs.writeFileSync(file, "attacker CA\n");
        expect(fs.readFileSync(caBundleFile(PEM, "k", base), "utf8")).toBe(PEM);
    });
});
