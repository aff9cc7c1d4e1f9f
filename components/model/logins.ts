import { LOGIN_SLOTS, LoginSlot } from "../schema/loginSlots";
import { LoginRotation, SchemaConfig, TierSecretKey, TierSecrets } from "../schema/schema";

// Password rotation by alternating users: two logins per role, clients on the active one. A rotation
// sets the standby's password (standby open), moves clients to it, then closes the old one, so no
// client ever holds a password that stops working.

export interface Login {
    readonly slot: LoginSlot;
    /** PostgreSQL / PgBouncer user name: `<base>_<slot>`. */
    readonly name: string;
    /** The secret config key holding its password. */
    readonly passwordKey: TierSecretKey;
}

export interface LoginPair {
    /** The base name: the receiver pair's NOLOGIN group role, the stats pair's prefix. */
    readonly base: string;
    readonly active: Login;
    readonly standby: Login;
    /** Logins PgBouncer and PostgreSQL accept: the active one, and the standby while open. */
    readonly accepted: readonly Login[];
    /** Both logins, slot a first. */
    readonly both: readonly Login[];
}

function loginPair(
    base: string,
    rotation: LoginRotation,
    passwordKeyPrefix: "receiverPassword" | "statsPassword" | "pgbouncerAdminPassword",
): LoginPair {
    const login = (slot: LoginSlot): Login => ({
        slot,
        name: `${base}_${slot}`,
        passwordKey: `${passwordKeyPrefix}${slot.toUpperCase() as Uppercase<LoginSlot>}`,
    });
    const active = login(rotation.active);
    const standby = login(rotation.active === "a" ? "b" : "a");
    return {
        base,
        active,
        standby,
        accepted: rotation.standby === "open" ? [active, standby] : [active],
        both: LOGIN_SLOTS.map(login),
    };
}

/** The receivers' logins; both are members of the `receiverRole.name` group role. */
export function receiverLogins(cfg: SchemaConfig): LoginPair {
    return loginPair(cfg.receiverRole.name, cfg.receiverRole.logins, "receiverPassword");
}

/** The PgBouncer console's stats logins (`stats_users`). */
export function statsLogins(cfg: SchemaConfig): LoginPair {
    return loginPair(cfg.pgbouncer.statsUser, cfg.pgbouncer.statsLogins, "statsPassword");
}

/** The PgBouncer console's admin logins (`admin_users`): held by operators, never by receivers or stats readers. */
export function adminLogins(cfg: SchemaConfig): LoginPair {
    return loginPair(cfg.pgbouncer.adminUser, cfg.pgbouncer.adminLogins, "pgbouncerAdminPassword");
}

/** Every login PgBouncer's console accepts (stats and admin pairs), with what it may do there. */
export function consoleLoginPairs(cfg: SchemaConfig): readonly LoginPair[] {
    return [statsLogins(cfg), adminLogins(cfg)];
}

export function loginPassword(secrets: TierSecrets, login: Login): string {
    return secrets[login.passwordKey];
}
