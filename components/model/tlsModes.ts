import { TierConfig } from "../schema/schema";

/** Whether PgBouncer serves the stack's certificate to receivers (client_tls_sslmode other than disable). */
export function pgbouncerServesTls(cfg: TierConfig): boolean {
    return cfg.pgbouncer.settings.client_tls_sslmode !== "disable";
}

/**
 * How a client of PgBouncer connects: with the stack's CA and the certificate's name checked
 * (verify-full) whenever PgBouncer serves TLS, so nobody answering as pgbouncer.dnsName can read or
 * fake a COMMIT; plaintext only where PgBouncer has TLS off (the local stack).
 */
export function pgbouncerClientSslmode(cfg: TierConfig): "verify-full" | "disable" {
    return pgbouncerServesTls(cfg) ? "verify-full" : "disable";
}
