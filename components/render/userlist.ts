import { TierConfig, TierSecrets } from "../schema/schema";
import { roleSecret } from "../model/authSecrets";
import { adminLogins, loginPassword, receiverLogins, statsLogins } from "../model/logins";
import { legacyLoginName, legacyLoginSecret } from "../model/cutover";

/**
 * PgBouncer's auth_file: the receiver, stats and admin logins it accepts (the active one of each pair, and
 * the standby while open), each with its pre-hashed secret. A closed login is absent: it cannot log in.
 */
export function renderUserlist(cfg: TierConfig, secrets: TierSecrets): string {
    const logins = [...receiverLogins(cfg).accepted, ...statsLogins(cfg).accepted, ...adminLogins(cfg).accepted];
    const lines = logins.map((login) => `"${login.name}" "${roleSecret(cfg, login.name, loginPassword(secrets, login))}"\n`);
    return lines.join("") + legacyLoginLine(cfg, secrets);
}

/** During the cutover the hand-made login too, with the hand-made userlist's own secret, so its receivers can move here. */
function legacyLoginLine(cfg: TierConfig, secrets: TierSecrets): string {
    const secret = legacyLoginSecret(cfg, secrets);
    return secret === undefined ? "" : `"${legacyLoginName(cfg)}" "${secret}"\n`;
}
