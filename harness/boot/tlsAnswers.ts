import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// What @pulumi/tls would compute for the program's PgBouncer CA and certificate, made by Debian's
// openssl, so a booted host gets real TLS material where the mocked engine has placeholders.

function inTempDir<T>(work: (dir: string) => T): T {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-boot-tls-"));
    try {
        return work(dir);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function openssl(dir: string, args: string[]): string {
    return execFileSync("openssl", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
}

const days = (hours: unknown) => String(Math.max(1, Math.ceil(Number(hours ?? 24) / 24)));
const subject = (inputs: Record<string, unknown>) => {
    const cn = (inputs.subject as { commonName?: string } | undefined)?.commonName ?? "receiver-tier";
    return `/CN=${cn.replace(/\//g, "\\/")}`;
};

/** tls.PrivateKey: an ECDSA P-256 key (the program asks for nothing else). */
export function privateKey(): Record<string, unknown> {
    return inTempDir((dir) => {
        openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.pem"]);
        return { privateKeyPem: fs.readFileSync(path.join(dir, "key.pem"), "utf8") };
    });
}

/** tls.SelfSignedCert of a CA. */
export function selfSignedCert(inputs: Record<string, unknown>): Record<string, unknown> {
    return inTempDir((dir) => {
        fs.writeFileSync(path.join(dir, "key.pem"), String(inputs.privateKeyPem), { mode: 0o600 });
        const ca = inputs.isCaCertificate === true;
        openssl(dir, [
            "req",
            "-x509",
            "-new",
            "-key",
            "key.pem",
            "-subj",
            subject(inputs),
            "-days",
            days(inputs.validityPeriodHours),
            "-addext",
            `basicConstraints=critical,CA:${ca ? "TRUE" : "FALSE"}`,
            ...(ca ? ["-addext", "keyUsage=critical,keyCertSign,cRLSign"] : []),
            "-out",
            "cert.pem",
        ]);
        return { certPem: fs.readFileSync(path.join(dir, "cert.pem"), "utf8") };
    });
}

/** tls.CertRequest with its DNS names. */
export function certRequest(inputs: Record<string, unknown>): Record<string, unknown> {
    return inTempDir((dir) => {
        fs.writeFileSync(path.join(dir, "key.pem"), String(inputs.privateKeyPem), { mode: 0o600 });
        const dns = (inputs.dnsNames as string[] | undefined) ?? [];
        openssl(dir, [
            "req",
            "-new",
            "-key",
            "key.pem",
            "-subj",
            subject(inputs),
            ...(dns.length > 0 ? ["-addext", `subjectAltName=${dns.map((n) => `DNS:${n}`).join(",")}`] : []),
            "-out",
            "req.pem",
        ]);
        return { certRequestPem: fs.readFileSync(path.join(dir, "req.pem"), "utf8") };
    });
}

/** tls.LocallySignedCert: the request's names, signed by the CA, for a server. */
export function locallySignedCert(inputs: Record<string, unknown>): Record<string, unknown> {
    return inTempDir((dir) => {
        fs.writeFileSync(path.join(dir, "req.pem"), String(inputs.certRequestPem));
        fs.writeFileSync(path.join(dir, "ca.pem"), String(inputs.caCertPem));
        fs.writeFileSync(path.join(dir, "ca.key"), String(inputs.caPrivateKeyPem), { mode: 0o600 });
        fs.writeFileSync(
            path.join(dir, "ext.cnf"),
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        );
        openssl(dir, [
            "x509",
            "-req",
            "-in",
            "req.pem",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-copy_extensions",
            "copy",
            "-extfile",
            "ext.cnf",
            "-days",
            days(inputs.validityPeriodHours),
            "-out",
            "cert.pem",
        ]);
        return { certPem: fs.readFileSync(path.join(dir, "cert.pem"), "utf8") };
    });
}
