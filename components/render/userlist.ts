import { TierConfig, TierSecrets } from "../config/schema";
import { authSecret } from "./authSecrets";

/** PgBouncer's auth_file: the receiver role and the stats user, each with its pre-hashed secret. */
export function renderUserlist(cfg: TierConfig, secrets: TierSecrets): string {
    const authType = cfg.pgbouncer.settings.auth_type;
    const users: [string, string][] = [
        [cfg.receiverRole.name, secrets.receiverPassword],
        [cfg.pgbouncer.statsUser, secrets.statsPassword],
    ];
    return users.map(([user, password]) => `"${user}" "${authSecret(authType, user, password)}"\n`).join("");
}
