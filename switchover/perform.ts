import { DatabaseNode, Inventory, PgbouncerHost } from "./inventory";
import { repointDatabases } from "../components/render/iniRepoint";

/** One PgBouncer console connection as the admin login. */
export interface ConsoleSession {
    /** Runs a console command; rejects when PgBouncer refuses it or it takes longer than timeoutMs. */
    command(text: string, timeoutMs: number): Promise<void>;
    end(): Promise<void>;
}

/** One superuser connection to a PostgreSQL node. */
export interface SqlSession {
    query(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
    end(): Promise<void>;
}

/** Everything the switchover does to the world, so a test can stand in for any part of it. */
export interface SwitchoverWorld {
    console(host: PgbouncerHost): Promise<ConsoleSession>;
    database(node: DatabaseNode): Promise<SqlSession>;
    run(argv: readonly string[], timeoutMs: number): Promise<void>;
    readFile(path: string): string;
    /** Replaces the file's content at once (write beside it, rename over it). */
    replaceFile(path: string, text: string): void;
    now(): number;
    sleep(ms: number): Promise<void>;
}

export interface SwitchoverLimits {
    /** How long PAUSE may wait for in-flight transactions (switchover/budget.ts). */
    readonly pauseTimeoutMs: number;
    /** The standby may be this far behind the primary's WAL at the start. */
    readonly maxLagBytes: number;
    /** How long the standby may take to receive the stopped primary's last WAL. */
    readonly catchUpTimeoutMs: number;
    readonly stopTimeoutMs: number;
    readonly promoteTimeoutSeconds: number;
}

export interface TimelineEntry {
    /** Milliseconds since the switchover started. */
    readonly atMs: number;
    readonly what: string;
}

export interface SwitchoverResult {
    readonly ok: boolean;
    readonly timeline: readonly TimelineEntry[];
    /** Milliseconds between the first PAUSE sent and the last RESUME answered (undefined if never paused). */
    readonly pausedMs?: number;
    /** What went wrong and the state it left, when not ok. */
    readonly failure?: string;
}

/** The console commands a switchover sends: global PAUSE only, never `PAUSE <db>` (pgbouncer#420 with min_pool_size). */
export const CONSOLE_COMMANDS = { pause: "PAUSE", resume: "RESUME", reload: "RELOAD" } as const;

const CONSOLE_TIMEOUT_MS = 5000;
const CATCH_UP_POLL_MS = 20;

class Abort extends Error {}

/**
 * A planned switchover: checks the standby, PAUSEs every PgBouncer (RESUME everywhere on any failure before the
 * primary stops), stops the primary, waits until the standby has its last WAL, promotes it, repoints every
 * pgbouncer.ini and RELOADs, then RESUMEs. Never throws: the result says what happened and when.
 */
export async function performSwitchover(inv: Inventory, limits: SwitchoverLimits, world: SwitchoverWorld): Promise<SwitchoverResult> {
    const started = world.now();
    const timeline: TimelineEntry[] = [];
    const note = (what: string) => timeline.push({ atMs: world.now() - started, what });
    const sessions: SqlSession[] = [];
    let pausedAt: number | undefined;
    let resumedAt: number | undefined;
    let primaryStopped = false;

    const resumeEverywhere = async () => {
        // A PgBouncer whose PAUSE never started answers "not paused": it serves already.
        const resume = (host: PgbouncerHost) =>
            consoleCommand(world, host, CONSOLE_COMMANDS.resume, CONSOLE_TIMEOUT_MS).catch((err: unknown) => {
                if (!/not paused/i.test(message(err))) throw err;
            });
        await Promise.all(inv.pgbouncers.map(resume));
        resumedAt = world.now();
        note(`RESUME answered by ${inv.pgbouncers.map((h) => h.name).join(", ")}`);
    };

    try {
        const primary = await world.database(inv.primary);
        const standby = await world.database(inv.standby);
        sessions.push(primary, standby);
        await checkPair(primary, standby, inv, limits, note);

        pausedAt = world.now();
        note(`PAUSE sent to ${inv.pgbouncers.map((h) => h.name).join(", ")} (at most ${limits.pauseTimeoutMs} ms)`);
        const paused = await Promise.allSettled(
            inv.pgbouncers.map((host) => consoleCommand(world, host, CONSOLE_COMMANDS.pause, limits.pauseTimeoutMs)),
        );
        const refused = paused.flatMap((outcome, index) =>
            outcome.status === "rejected" ? [`${(inv.pgbouncers[index] as PgbouncerHost).name}: ${message(outcome.reason)}`] : [],
        );
        if (refused.length > 0) throw new Abort(`PAUSE did not complete (${refused.join("; ")})`);
        note("every PgBouncer paused: no transaction in flight");

        const lastLsn = String((await primary.query("SELECT pg_current_wal_lsn()::text AS lsn"))[0]?.lsn);
        note(`primary ${inv.primary.name} at WAL ${lastLsn}; stopping it`);
        await primary.end();
        sessions.splice(sessions.indexOf(primary), 1);
        await world.run(inv.primary.stopCommand, limits.stopTimeoutMs).catch((err: unknown) => {
            throw new Abort(`stopping the primary failed: ${message(err)}`);
        });
        primaryStopped = true;
        note(`primary ${inv.primary.name} stopped`);

        await waitForWal(standby, lastLsn, limits.catchUpTimeoutMs, world);
        note(`standby ${inv.standby.name} has received WAL ${lastLsn}`);
        const promoted = await standby.query("SELECT pg_promote(true, $1) AS promoted", [limits.promoteTimeoutSeconds]);
        if (promoted[0]?.promoted !== true) throw new Abort(`pg_promote did not finish within ${limits.promoteTimeoutSeconds} s`);
        note(`standby ${inv.standby.name} promoted: the primary now`);

        for (const host of inv.pgbouncers) {
            world.replaceFile(host.iniFile, repointDatabases(world.readFile(host.iniFile), inv.standby.host, inv.standby.port));
            await consoleCommand(world, host, CONSOLE_COMMANDS.reload, CONSOLE_TIMEOUT_MS);
        }
        note(`every pgbouncer.ini points at ${inv.standby.host}:${inv.standby.port}; RELOAD done`);
        await resumeEverywhere();
        return { ok: true, timeline, pausedMs: world.now() - pausedAt };
    } catch (err) {
        note(`failed: ${message(err)}`);
        let resumeFailure = "";
        if (pausedAt !== undefined && resumedAt === undefined) {
            await resumeEverywhere().catch((resumeErr: unknown) => {
                resumeFailure = `; RESUME failed too (${message(resumeErr)}): run RESUME on every PgBouncer console by hand`;
            });
        }
        const state = primaryStopped
            ? `the primary ${inv.primary.name} is stopped and ${inv.standby.name} was not made the primary: start ${inv.primary.name} again (PgBouncer still points at it)`
            : `nothing was changed: ${inv.primary.name} is still the primary`;
        return {
            ok: false,
            timeline,
            pausedMs: pausedAt !== undefined && resumedAt !== undefined ? resumedAt - pausedAt : undefined,
            failure: `${message(err)}; ${state}${resumeFailure}`,
        };
    } finally {
        await Promise.all(sessions.map((session) => session.end().catch(() => undefined)));
    }
}

async function checkPair(
    primary: SqlSession,
    standby: SqlSession,
    inv: Inventory,
    limits: SwitchoverLimits,
    note: (what: string) => void,
): Promise<void> {
    const [primaryState] = await primary.query("SELECT pg_is_in_recovery() AS recovery, pg_current_wal_lsn()::text AS lsn");
    if (primaryState?.recovery !== false) throw new Abort(`${inv.primary.name} is not a primary (it is in recovery)`);
    const [standbyState] = await standby.query(
        "SELECT pg_is_in_recovery() AS recovery, (SELECT status FROM pg_stat_wal_receiver) AS receiver," +
            " pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::bigint AS lag_bytes",
        [primaryState.lsn],
    );
    if (standbyState?.recovery !== true) throw new Abort(`${inv.standby.name} is not a standby (not in recovery)`);
    if (standbyState.receiver !== "streaming") {
        throw new Abort(`${inv.standby.name} is not streaming from the primary (wal receiver: ${String(standbyState.receiver ?? "none")})`);
    }
    const lag = Math.max(0, Number(standbyState.lag_bytes));
    if (lag > limits.maxLagBytes)
        throw new Abort(`${inv.standby.name} replays ${lag} bytes behind the primary (at most ${limits.maxLagBytes})`);
    const sync = await primary.query("SELECT count(*)::int AS n FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')");
    note(
        `standby ${inv.standby.name} streaming, ${lag} bytes behind; ${Number(sync[0]?.n) > 0 ? "synchronous" : "asynchronous: no commit waits for it"}`,
    );
}

async function waitForWal(standby: SqlSession, lsn: string, timeoutMs: number, world: SwitchoverWorld): Promise<void> {
    const deadline = world.now() + timeoutMs;
    for (;;) {
        const [row] = await standby.query("SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), $1::pg_lsn) >= 0 AS caught_up", [lsn]);
        if (row?.caught_up === true) return;
        if (world.now() > deadline) throw new Abort(`the standby did not receive WAL ${lsn} within ${timeoutMs} ms: not promoted`);
        await world.sleep(CATCH_UP_POLL_MS);
    }
}

async function consoleCommand(world: SwitchoverWorld, host: PgbouncerHost, text: string, timeoutMs: number): Promise<void> {
    const session = await world.console(host);
    try {
        await session.command(text, timeoutMs);
    } finally {
        await session.end().catch(() => undefined);
    }
}

function message(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
}
