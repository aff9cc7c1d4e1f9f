import { TierConfig, TierSecrets } from "../schema/schema";
import { roleSecret } from "../model/authSecrets";
import { loginPassword, receiverLogins, statsLogins } from "../model/logins";

/**
 * PgBouncer's auth_file: the receiver and stats logins it accepts (the active one of each pair, and
 * the standby while open), each with its pre-hashed secret. A closed login is absent: it cannot log in.
 */
export function renderUserlist(cfg: TierConfig, secrets: TierSecrets): string {
    const logins = [...receiverLogins(cfg).accepted, ...statsLogins(cfg).accepted];
    return logins.map((login) => `"${login.name}" "${roleSecret(cfg, login.name, loginPassword(secrets, login))}"\n`).join("");
}
