import { createHash, createHmac, pbkdf2Sync } from "crypto";
import { SchemaConfig } from "../schema/schema";

/** PostgreSQL's default SCRAM iteration count (scram_iterations). */
export const SCRAM_ITERATIONS = 4096;

/** The md5 secret PostgreSQL and PgBouncer store: "md5" + md5(password + username). */
export function md5Secret(username: string, password: string): string {
    return (
        "md5" +
        createHash("md5")
            .update(password + username)
            .digest("hex")
    );
}

// PostgreSQL applies SASLprep to SCRAM passwords; for printable ASCII that is the identity,
// so other passwords are refused rather than hashed differently from the server.
function assertPrintableAscii(username: string, password: string): void {
    if (!/^[\x20-\x7e]+$/.test(password)) {
        throw new Error(`password for ${username} must be non-empty printable ASCII`);
    }
}

/**
 * Salt for a user's SCRAM verifier: derived from the server and user, so the verifier is the
 * same on every run (no diff in preview; userlist and server stay identical) and differs per
 * user and server. Never from the password: the salt is public in the verifier, and a
 * password-derived salt would let anyone test guesses without the PBKDF2 rounds.
 */
export function scramSalt(username: string, scope: string): Buffer {
    return createHash("sha256").update(`receiver-tier scram salt\0${scope}\0${username}`).digest().subarray(0, 16);
}

/** A SCRAM-SHA-256 verifier in PostgreSQL's stored form (RFC 5803). */
export function scramSecret(username: string, password: string, salt: Buffer, iterations = SCRAM_ITERATIONS): string {
    assertPrintableAscii(username, password);
    const saltedPassword = pbkdf2Sync(password, salt, iterations, 32, "sha256");
    const clientKey = createHmac("sha256", saltedPassword).update("Client Key").digest();
    const storedKey = createHash("sha256").update(clientKey).digest();
    const serverKey = createHmac("sha256", saltedPassword).update("Server Key").digest();
    return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/**
 * The secret for `auth_type`, stored both in userlist.txt and as the role's password.
 * `scope` names the server that stores it (see scramSalt).
 */
export function authSecret(authType: "md5" | "scram-sha-256", username: string, password: string, scope: string): string {
    if (authType === "md5") {
        assertPrintableAscii(username, password);
        return md5Secret(username, password);
    }
    return scramSecret(username, password, scramSalt(username, scope));
}

/** What a role's secret depends on (the rules compute it too, before the config is a TierConfig). */
type SecretSettings = Pick<SchemaConfig, "postgres" | "pgbouncer">;

/** The server a role's password secret belongs to: its SCRAM salt scope. */
export function secretScope(cfg: SecretSettings): string {
    return `${cfg.postgres.host}:${cfg.postgres.port}/${cfg.postgres.database}`;
}

/** The pre-hashed secret of one tier role for the stack's auth_type. */
export function roleSecret(cfg: SecretSettings, role: string, password: string): string {
    return authSecret(cfg.pgbouncer.settings.auth_type, role, password, secretScope(cfg));
}
