import { SchemaConfig } from "../components/schema/schema";

/**
 * Seconds the switch itself takes once every PgBouncer is paused: stop the primary, confirm the standby has its
 * last WAL, promote, repoint, RESUME (about 0.3-1 s on a small primary; the rest is margin).
 */
export const SWITCH_SECONDS = 1.5;
/** Below this a PAUSE cannot wait even for short in-flight transactions. */
export const MIN_PAUSE_TIMEOUT_MS = 500;

/**
 * How long PAUSE may wait for in-flight transactions before the switchover gives up and RESUMEs: clients queue
 * from the moment PAUSE starts and PgBouncer drops them after query_wait_timeout, so the PAUSE and the switch
 * must both fit inside it.
 */
export function pauseTimeoutMs(cfg: Pick<SchemaConfig, "pgbouncer">): number {
    return Math.round((cfg.pgbouncer.settings.query_wait_timeout - SWITCH_SECONDS) * 1000);
}
