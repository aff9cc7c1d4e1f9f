import { TierConfig, TierSecrets } from "../config/schema";
import { authSecret } from "./authSecrets";

/** The server a role's password secret belongs to: its SCRAM salt scope. */
export function secretScope(cfg: TierConfig): string {
    return `${cfg.postgres.host}:${cfg.postgres.port}/${cfg.postgres.database}`;
}

/** The pre-hashed secret of one tier role for the stack's auth_type. */
export function roleSecret(cfg: TierConfig, role: string, password: string): string {
    return authSecret(cfg.pgbouncer.settings.auth_type, role, password, secretScope(cfg));
}

/** PgBouncer's auth_file: the receiver role and the stats user, each with its pre-hashed secret. */
export function renderUserlist(cfg: TierConfig, secrets: TierSecrets): string {
    const users: [string, string][] = [
        [cfg.receiverRole.name, secrets.receiverPassword],
        [cfg.pgbouncer.statsUser, secrets.statsPassword],
    ];
    return users.map(([user, password]) => `"${user}" "${roleSecret(cfg, user, password)}"\n`).join("");
}
