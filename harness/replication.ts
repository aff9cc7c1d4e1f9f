import { PostgresCluster } from "./postgres";
import { isAlive } from "./pids";

/**
 * Stops the standby's walreceiver (SIGSTOP, by the PID the standby reports): the primary gets no more
 * confirmations, so every COMMIT waiting for a synchronous standby waits. Resolves with the function that lets
 * it go on (SIGCONT); call it before stopping the tier.
 */
export async function stallReplication(standby: PostgresCluster): Promise<() => void> {
    const [row] = await standby.query<{ pid: number }>("SELECT pid FROM pg_stat_wal_receiver");
    if (row?.pid === undefined) throw new Error("the standby runs no walreceiver");
    const pid = Number(row.pid);
    process.kill(pid, "SIGSTOP");
    let resumed = false;
    return () => {
        if (resumed) return;
        resumed = true;
        if (isAlive(pid)) process.kill(pid, "SIGCONT");
    };
}
