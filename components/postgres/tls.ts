import type { ClientConfig } from "pg";

/** node-postgres TLS options for a libpq sslmode: disable and prefer connect without TLS. */
export function clientTls(sslmode: string): ClientConfig["ssl"] {
    return sslmode === "disable" || sslmode === "prefer" ? false : { rejectUnauthorized: sslmode.startsWith("verify") };
}
