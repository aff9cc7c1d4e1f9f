import { Client, ClientConfig } from "pg";
import { durationToMs } from "../components/schema/duration";
import { loginPassword, receiverLogins, statsLogins } from "../components/model/logins";
import { TierConfig, TierSecrets } from "../components/schema/schema";
import { serverConnectionsPerHost } from "../components/model/capacity";
import { renderMonitorSql } from "../components/render/longQueryMonitor";
import { clientTls } from "../components/postgres/clientTls";
import { withClient } from "../components/postgres/databaseSetting";
import { pgbouncerClientSslmode } from "../components/model/tlsModes";
import { Check } from "./result";
import { DURABILITY_CHECK, durabilityCheck, needsServerState, readReplicationState } from "./durability";

/** Where a live tier answers. */
export interface Endpoints {
    readonly pgbouncer: { host: string; port: number };
    /** The stack's PgBouncer CA (PEM), when PgBouncer serves TLS: the checks connect with verify-full like the receivers. */
    readonly pgbouncerCa?: string;
    readonly postgres: { host: string; port: number };
    readonly healthUrl: string;
}

const TIMEOUT_MS = 10_000;

/** A connection that gives up within TIMEOUT_MS, connecting and per query. */
const timedClient = <T>(config: ClientConfig, work: (client: Client) => Promise<T>) =>
    withClient({ connectionTimeoutMillis: TIMEOUT_MS, query_timeout: TIMEOUT_MS, ...config }, work);

/**
 * An error with what lies under it: `fetch failed` says nothing without its cause, a refused
 * connection is known by its errno, a PostgreSQL error by its SQLSTATE.
 */
export function describeError(err: unknown): string {
    if (!(err instanceof Error)) return String(err);
    // Connecting to a name with several addresses fails with one error per address.
    if (err instanceof AggregateError && err.errors.length > 0) return [...new Set(err.errors.map(describeError))].join("; ");
    const parts = err.message ? [err.message] : [];
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string") parts.push(/^[0-9A-Z]{5}$/.test(code) && !code.startsWith("E") ? `(SQLSTATE ${code})` : `(${code})`);
    const cause = (err as { cause?: unknown }).cause;
    if (cause !== undefined) parts.push(`<- ${describeError(cause)}`);
    return parts.join(" ");
}

/** Runs one check; an exception is a failure with its cause, never a crash of the checklist. */
async function check(name: string, run: () => Promise<[boolean, string]>): Promise<Check> {
    try {
        const [passed, detail] = await run();
        return { name, passed, detail };
    } catch (err) {
        return { name, passed: false, detail: describeError(err) };
    }
}

/** The SHOW CONFIG values the runbook's checklist relies on, as the stack renders them. */
function expectedConfig(cfg: TierConfig): Record<string, string | number> {
    const s = cfg.pgbouncer.settings;
    return {
        pool_mode: s.pool_mode,
        default_pool_size: s.default_pool_size,
        reserve_pool_size: s.reserve_pool_size,
        reserve_pool_timeout: s.reserve_pool_timeout,
        min_pool_size: s.min_pool_size,
        max_client_conn: s.max_client_conn,
        max_db_connections: serverConnectionsPerHost(cfg),
        query_timeout: s.query_timeout,
        query_wait_timeout: s.query_wait_timeout,
        idle_transaction_timeout: s.idle_transaction_timeout,
    };
}

/**
 * The runbook's verification checklist against a live tier: each a pass/fail line.
 * Connections: PgBouncer's console as the stats user, PgBouncer as the receiver role,
 * PostgreSQL as the monitor role, and the public health endpoint.
 */
export async function runChecklist(cfg: TierConfig, secrets: TierSecrets, at: Endpoints): Promise<Check[]> {
    const pb = cfg.pgbouncer;
    const stats = statsLogins(cfg).active;
    const login = receiverLogins(cfg).active;
    const toPgbouncer: ClientConfig = {
        ...at.pgbouncer,
        ssl: clientTls({ host: at.pgbouncer.host, sslmode: pgbouncerClientSslmode(cfg), sslrootcert: at.pgbouncerCa }),
    };
    const console_: ClientConfig = { ...toPgbouncer, user: stats.name, password: loginPassword(secrets, stats), database: "pgbouncer" };
    const receiver: ClientConfig = {
        ...toPgbouncer,
        user: login.name,
        password: loginPassword(secrets, login),
        database: pb.databaseAlias,
    };
    const monitor: ClientConfig = {
        ...at.postgres,
        user: cfg.monitor.role,
        password: secrets.monitorPassword,
        database: cfg.postgres.database,
        ssl: clientTls({ host: cfg.postgres.host, sslmode: cfg.postgres.sslmode, sslrootcert: cfg.postgres.caBundle }),
    };
    const results: Check[] = [];

    const shown = await timedClient(console_, async (c) => (await c.query<{ key: string; value: string }>("SHOW CONFIG")).rows).catch(
        (err: Error) => err,
    );
    for (const [key, want] of Object.entries(expectedConfig(cfg))) {
        results.push(
            await check(`PgBouncer ${key} = ${want}`, async () => {
                if (shown instanceof Error) throw shown;
                const have = shown.find((row) => row.key === key)?.value;
                const same = typeof want === "number" ? Number(have) === want : have === want;
                return [same, `SHOW CONFIG: ${key} = ${have ?? "(missing)"}`];
            }),
        );
    }

    results.push(
        await check(`statement timeout ${cfg.receiverRole.statementTimeout} as ${login.name} through PgBouncer`, async () => {
            const value = await timedClient(
                receiver,
                async (c) => (await c.query<{ statement_timeout: string }>("SHOW statement_timeout")).rows[0]?.statement_timeout ?? "",
            );
            return [durationToMs(value) === durationToMs(cfg.receiverRole.statementTimeout), `SHOW statement_timeout: ${value}`];
        }),
    );

    results.push(
        await check("no waiting clients, maxwait under 1 s (SHOW POOLS)", async () => {
            const pools = await timedClient(console_, async (c) => (await c.query<Record<string, string>>("SHOW POOLS")).rows);
            // Both receiver logins while a rotation moves receivers from one to the other.
            const receiverPools = pools.filter((row) => row.database === pb.databaseAlias);
            if (receiverPools.length === 0) return [true, `no pool for ${pb.databaseAlias} yet (no client connected)`];
            const lines = receiverPools.map((pool) => {
                const maxwait = Number(pool.maxwait) + Number(pool.maxwait_us ?? 0) / 1e6;
                const line = `${pool.user}: cl_active ${pool.cl_active}, cl_waiting ${pool.cl_waiting}, sv_active ${pool.sv_active}, sv_idle ${pool.sv_idle}, maxwait ${maxwait.toFixed(3)}s`;
                return { ok: Number(pool.cl_waiting) === 0 && maxwait < 1, line };
            });
            return [lines.every((l) => l.ok), lines.map((l) => l.line).join("; ")];
        }),
    );

    results.push(
        await check(`no query running longer than ${cfg.monitor.minQueryAgeSeconds} s (long-running-query check)`, async () => {
            const rows = await timedClient(
                monitor,
                async (c) => (await c.query<{ pid: number; usename: string; state: string }>(renderMonitorSql(cfg))).rows,
            );
            return [
                rows.length === 0,
                rows.length === 0 ? "empty result" : rows.map((r) => `pid ${r.pid} ${r.usename} ${r.state}`).join("; "),
            ];
        }),
    );

    const kind = cfg.postgres.highAvailability;
    results.push(
        needsServerState(kind)
            ? await check(DURABILITY_CHECK, async () => {
                  const verdict = durabilityCheck(kind, await timedClient(monitor, readReplicationState));
                  return [verdict.passed, verdict.detail ?? ""];
              })
            : durabilityCheck(kind, undefined),
    );

    results.push(
        await check(`health endpoint healthy: ${at.healthUrl}`, async () => {
            const response = await fetch(at.healthUrl, { signal: AbortSignal.timeout(TIMEOUT_MS) });
            const body = (await response.json().catch(() => ({}))) as { status?: string; db_pool?: { waiting?: number } };
            const healthy = response.status === 200 && body.status === "healthy" && body.db_pool?.waiting === 0;
            return [healthy, `HTTP ${response.status} ${JSON.stringify(body)}`];
        }),
    );
    return results;
}

/** Failed checks that failed the same way, in checklist order. */
export interface FailureGroup {
    readonly detail: string;
    readonly checks: string[];
}

export function groupFailures(results: readonly Check[]): FailureGroup[] {
    const groups = new Map<string, string[]>();
    for (const r of results.filter((r) => !r.passed)) {
        const detail = r.detail ?? "";
        groups.set(detail, [...(groups.get(detail) ?? []), r.name]);
    }
    return [...groups].map(([detail, checks]) => ({ detail, checks }));
}

/** One line per passed check and per distinct failure: a refused connection is one line with its count. */
export function formatChecklist(stack: string, results: readonly Check[]): string {
    const passedLines = results.filter((r) => r.passed).map((r) => `PASS  ${r.name}\n      ${r.detail ?? ""}`);
    const failedLines = groupFailures(results).map((group) =>
        group.checks.length === 1
            ? `FAIL  ${group.checks[0]}\n      ${group.detail}`
            : `FAIL  ${group.checks.length} checks failed alike: ${group.checks.join("; ")}\n      ${group.detail}`,
    );
    const passed = results.filter((r) => r.passed).length;
    return (
        [
            `receiver-tier verify: stack ${stack}`,
            ...passedLines,
            ...failedLines,
            `checklist: ${passed} of ${results.length} checks passed`,
        ].join("\n") + "\n"
    );
}

export function checklistJson(stack: string, results: readonly Check[]): string {
    const passed = results.filter((r) => r.passed).length;
    const report = {
        stack,
        passed: passed === results.length,
        passedCount: passed,
        total: results.length,
        results,
        failures: groupFailures(results),
    };
    return JSON.stringify(report, null, 2) + "\n";
}
