import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ClientConfig } from "pg";

/** What a client needs to reach PostgreSQL with libpq's sslmode semantics. */
export interface TlsTarget {
    readonly host: string;
    readonly sslmode: string;
    /** PEM CA bundle the server's certificate must chain to (verify-ca / verify-full). */
    readonly sslrootcert?: string;
}

/**
 * node-postgres TLS options for a libpq sslmode: disable and prefer connect without TLS, require
 * encrypts without checking, verify-ca checks the chain against the CA bundle, verify-full also the
 * host name (node checks it against the certificate's names, IP addresses included).
 */
export function clientTls(target: TlsTarget): ClientConfig["ssl"] {
    const { sslmode, sslrootcert } = target;
    if (sslmode === "disable" || sslmode === "prefer") return false;
    if (sslmode === "require") return { rejectUnauthorized: false };
    if (sslrootcert === undefined) {
        throw new Error(`sslmode ${sslmode} to ${target.host} needs a CA bundle to verify the server's certificate against`);
    }
    return sslmode === "verify-ca"
        ? { ca: sslrootcert, rejectUnauthorized: true, checkServerIdentity: () => undefined }
        : { ca: sslrootcert, rejectUnauthorized: true };
}

/**
 * The CA bundle as a file on the machine running Pulumi, for the PostgreSQL provider's `sslrootcert`
 * (it takes a path only). Named by its content, so every run writes the same path.
 */
export function caBundleFile(pem: string): string {
    const file = path.join(os.tmpdir(), `receiver-tier-ca-${createHash("sha256").update(pem).digest("hex").slice(0, 16)}.pem`);
    fs.writeFileSync(file, pem, { mode: 0o644 });
    return file;
}
