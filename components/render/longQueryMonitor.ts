import { TierConfig } from "../schema/schema";
import { sqlLiteral } from "./sql";

/**
 * Characters of a query's text the check prints: enough to tell which statement it is, too few for the
 * webhook payload the receivers' INSERT carries (the check's output goes to the journal).
 */
export const MONITOR_QUERY_PREFIX_CHARS = 60;

/** The runbook's long-running-query check, with the stack's age threshold and database. */
export function renderMonitorSql(cfg: TierConfig): string {
    return (
        [
            `SELECT pid, usename, application_name, state, left(query, ${MONITOR_QUERY_PREFIX_CHARS}) AS query_prefix,`,
            "       now() - query_start AS query_age, now() - state_change AS state_age",
            "FROM pg_stat_activity",
            "WHERE state <> 'idle'",
            `  AND (now() - query_start) > interval ${sqlLiteral(`${cfg.monitor.minQueryAgeSeconds} seconds`)}`,
            `  AND datname = ${sqlLiteral(cfg.postgres.database)}`,
            "  AND pid <> pg_backend_pid()",
            "ORDER BY query_start ASC;",
        ].join("\n") + "\n"
    );
}

/** systemd timer running the check every monitor.intervalMinutes. */
export function renderMonitorTimer(cfg: TierConfig): string {
    return (
        [
            "[Unit]",
            `Description=receiver-tier long-running-query check every ${cfg.monitor.intervalMinutes} min`,
            "",
            "[Timer]",
            "OnBootSec=2min",
            `OnUnitActiveSec=${cfg.monitor.intervalMinutes}min`,
            "AccuracySec=10s",
            "",
            "[Install]",
            "WantedBy=timers.target",
        ].join("\n") + "\n"
    );
}
