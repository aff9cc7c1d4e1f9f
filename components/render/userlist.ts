import { SchemaConfig, TierConfig, TierSecrets } from "../schema/schema";
import { authSecret } from "../model/authSecrets";
import { loginPassword, receiverLogins, statsLogins } from "../model/logins";

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

/**
 * PgBouncer's auth_file: the receiver and stats logins it accepts (the active one of each pair, and
 * the standby while open), each with its pre-hashed secret. A closed login is absent: it cannot log in.
 */
export function renderUserlist(cfg: TierConfig, secrets: TierSecrets): string {
    const logins = [...receiverLogins(cfg).accepted, ...statsLogins(cfg).accepted];
    return logins.map((login) => `"${login.name}" "${roleSecret(cfg, login.name, loginPassword(secrets, login))}"\n`).join("");
}
