import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** A certificate and its private key, PEM. */
export interface Issued {
    readonly certPem: string;
    readonly keyPem: string;
}

/** A throwaway CA made by Debian's openssl, able to issue server certificates. */
export interface TestCa extends Issued {
    /** A server certificate with exactly these subject alternative names. */
    issue(names: { readonly dns?: readonly string[]; readonly ip?: readonly string[] }): Issued;
}

function openssl(dir: string, args: string[]): void {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
}

function inTempDir<T>(work: (dir: string) => T): T {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-tls-"));
    try {
        return work(dir);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const P256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
const read = (dir: string, name: string) => fs.readFileSync(path.join(dir, name), "utf8");

/** A new CA (ECDSA P-256, valid two days) whose certificates only the tests trust. */
export function createTestCa(commonName: string): TestCa {
    const ca = inTempDir((dir) => {
        openssl(dir, [
            "req",
            "-x509",
            ...P256,
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            `/CN=${commonName}`,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        return { certPem: read(dir, "ca.crt"), keyPem: read(dir, "ca.key") };
    });
    return {
        ...ca,
        issue(names) {
            const san = [...(names.dns ?? []).map((n) => `DNS:${n}`), ...(names.ip ?? []).map((n) => `IP:${n}`)].join(",");
            return inTempDir((dir) => {
                fs.writeFileSync(path.join(dir, "ca.crt"), ca.certPem);
                fs.writeFileSync(path.join(dir, "ca.key"), ca.keyPem, { mode: 0o600 });
                fs.writeFileSync(
                    path.join(dir, "ext.cnf"),
                    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
                );
                openssl(dir, ["req", ...P256, "-keyout", "server.key", "-out", "server.csr", "-subj", `/CN=${names.dns?.[0] ?? "server"}`]);
                openssl(dir, [
                    "x509",
                    "-req",
                    "-in",
                    "server.csr",
                    "-CA",
                    "ca.crt",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-days",
                    "2",
                    "-extfile",
                    "ext.cnf",
                    "-out",
                    "server.crt",
                ]);
                return { certPem: read(dir, "server.crt"), keyPem: read(dir, "server.key") };
            });
        },
    };
}
