import { CONSOLE_COMMANDS, SwitchoverLimits, SwitchoverResult } from "./perform";
import { Inventory } from "./inventory";

/** The steps `npm run switchover -- --dry-run` prints, with the hosts, commands and limits it would use. */
export function describeSwitchover(inv: Inventory, limits: SwitchoverLimits, queryWaitTimeout: number): string {
    const consoles = inv.pgbouncers.map((h) => `${h.name} (${h.host}:${h.port})`).join(", ");
    const steps = [
        `check: ${inv.primary.name} is a primary; ${inv.standby.name} streams from it at most ${limits.maxLagBytes} bytes behind`,
        `${CONSOLE_COMMANDS.pause} (every database) on ${consoles}; at most ${limits.pauseTimeoutMs} ms for in-flight transactions to finish (clients wait up to query_wait_timeout ${queryWaitTimeout} s meanwhile); any failure until the primary stops: ${CONSOLE_COMMANDS.resume} everywhere, nothing changed`,
        `stop the primary ${inv.primary.name}: ${inv.primary.stopCommand.join(" ")} (at most ${limits.stopTimeoutMs} ms)`,
        `wait until ${inv.standby.name} has received the primary's last WAL (at most ${limits.catchUpTimeoutMs} ms); otherwise it is not promoted`,
        `promote ${inv.standby.name}: SELECT pg_promote(true, ${limits.promoteTimeoutSeconds})`,
        ...inv.pgbouncers.map(
            (h) =>
                `repoint ${h.iniFile}: [databases] host=${inv.standby.host} port=${inv.standby.port}; ${CONSOLE_COMMANDS.reload} on ${h.name}`,
        ),
        `${CONSOLE_COMMANDS.resume} on ${consoles}`,
    ];
    return [
        `switchover plan for stack ${inv.stack} (dry run: nothing is touched)`,
        ...steps.map((step, i) => `${String(i + 1).padStart(2)}. ${step}`),
    ].join("\n");
}

/** The timeline and outcome, one line per step. */
export function formatResult(result: SwitchoverResult): string {
    const lines = result.timeline.map((entry) => `+${String(entry.atMs).padStart(6)} ms  ${entry.what}`);
    const paused = result.pausedMs === undefined ? "" : `; clients waited at most ${result.pausedMs} ms (PAUSE to RESUME)`;
    lines.push(result.ok ? `switchover done${paused}` : `switchover FAILED: ${result.failure}${paused}`);
    return lines.join("\n");
}
