import { SchemaConfig } from "../schema/schema";

/** Seconds added to a crash window for the receiver's retry pauses and the first server login after it. */
export const CRASH_WINDOW_MARGIN_SECONDS = 1;

type CrashInputs = Pick<SchemaConfig, "pgbouncer">;

/**
 * Seconds after the new primary answers (promoted and pgbouncer repointed) during which a crash may still cost
 * 503 + Retry-After: a connect that started toward the dead primary gives up after server_connect_timeout, then
 * PgBouncer refuses the pool's clients for server_login_retry after that failed login, then the margin.
 */
export function crashWindowSeconds(cfg: CrashInputs): number {
    const s = cfg.pgbouncer.settings;
    return s.server_connect_timeout + s.server_login_retry + CRASH_WINDOW_MARGIN_SECONDS;
}
