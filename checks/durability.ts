import { Client } from "pg";
import { SchemaConfig } from "../components/schema/schema";
import { Check } from "./result";

type HighAvailability = SchemaConfig["postgres"]["highAvailability"];

/** What a primary reports about waiting for standbys at COMMIT. */
export interface ReplicationState {
    readonly synchronousCommit: string;
    readonly synchronousStandbyNames: string;
    /** Standbys pg_stat_replication shows as sync or quorum now. */
    readonly synchronousStandbys: number;
}

/** Managed databases that replicate every commit before acknowledging it, and what their failover costs. */
const MANAGED: Partial<Record<HighAvailability, string>> = {
    "rds-multi-az": "RDS Multi-AZ (DB instance) replicates every commit synchronously; a failover takes about 60-120 s",
    "rds-multi-az-cluster": "an RDS Multi-AZ DB cluster acknowledges a commit once a reader has it; a failover takes about 35 s",
    aurora: "Aurora acknowledges a commit once its storage holds it in several zones; a failover takes about 30 s",
};

// synchronous_commit values that wait for a synchronous standby to hold the commit.
const WAITS_FOR_STANDBY = new Set(["on", "remote_write", "remote_apply"]);

export const DURABILITY_CHECK = "acknowledged webhooks survive a primary crash";

/**
 * Whether a 202 survives the primary's crash, said plainly. Fails only when the stack says it has a synchronous
 * standby and the server shows none; a stack declaring no high availability passes with the plain "no".
 */
export function durabilityCheck(kind: HighAvailability, state: ReplicationState | undefined): Check {
    const managed = MANAGED[kind];
    if (managed !== undefined) {
        return {
            name: DURABILITY_CHECK,
            passed: true,
            detail: `yes (postgres.highAvailability ${kind}): ${managed}; senders get 503 + Retry-After meanwhile`,
        };
    }
    if (state === undefined) throw new Error(`postgres.highAvailability ${kind} needs the server's replication state`);
    const waits = WAITS_FOR_STANDBY.has(state.synchronousCommit) && state.synchronousStandbyNames.trim() !== "";
    const seen = `synchronous_commit = ${state.synchronousCommit}, synchronous_standby_names = '${state.synchronousStandbyNames}', ${state.synchronousStandbys} synchronous standby(s) connected`;
    if (waits && state.synchronousStandbys > 0) {
        return { name: DURABILITY_CHECK, passed: true, detail: `yes: every COMMIT waits for a synchronous standby (${seen})` };
    }
    const no = `NO: acknowledged webhooks since the standby's last confirmation are lost if the primary crashes (${seen})`;
    return kind === "synchronous-standby"
        ? { name: DURABILITY_CHECK, passed: false, detail: `${no}; postgres.highAvailability says synchronous-standby` }
        : { name: DURABILITY_CHECK, passed: true, detail: `${no}; postgres.highAvailability none: accepted as configured` };
}

/** The replication state as the primary reports it (pg_monitor sees every standby's sync_state). */
export async function readReplicationState(client: Client): Promise<ReplicationState> {
    const row = (
        await client.query<{ commit: string; names: string; standbys: number }>(
            `SELECT current_setting('synchronous_commit') AS commit, current_setting('synchronous_standby_names') AS names,
                    (SELECT count(*)::int FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')) AS standbys`,
        )
    ).rows[0];
    if (row === undefined) throw new Error("no answer to the replication query");
    return { synchronousCommit: row.commit, synchronousStandbyNames: row.names, synchronousStandbys: Number(row.standbys) };
}

/** Whether the kind needs the server asked at all. */
export function needsServerState(kind: HighAvailability): boolean {
    return MANAGED[kind] === undefined;
}
