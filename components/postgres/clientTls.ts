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
