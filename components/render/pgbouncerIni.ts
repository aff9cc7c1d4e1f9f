import { PgbouncerSettings, TierConfig } from "../schema/schema";
import { serverConnectionsPerHost } from "../model/capacity";
import { HOST_PATHS } from "../model/hostPaths";
import { adminLogins, statsLogins } from "../model/logins";
import { pgbouncerServesTls } from "../model/tlsModes";
import { legacyLoginLive } from "../model/cutover";

/**
 * Run on each new server connection before any client gets it: on a node in recovery (a standby, a demoted old
 * primary behind a record not yet moved) the backend ends itself, so PgBouncer never serves a client from it.
 * connect_query errors are only logged, which is why it terminates instead of raising.
 */
// As the login itself (the session runs as the group role, which may not signal the login's backend), then back to
// the role the login's settings give it.
export const REFUSE_STANDBY_QUERY = "SET ROLE NONE; SELECT pg_terminate_backend(pg_backend_pid()) WHERE pg_is_in_recovery(); RESET ROLE";

/** Run on a server connection after each client's transaction, before the next client gets it. */
export const SERVER_RESET_QUERY = "DISCARD ALL";

type IniValue = string | number | readonly string[];

function iniLine(key: string, value: IniValue): string {
    return `${key} = ${Array.isArray(value) ? value.join(",") : String(value)}`;
}

// Why the stack's value differs from the runbook's, printed above the setting for reviewers.
const REASONS: Partial<Record<keyof PgbouncerSettings, string>> = {
    reserve_pool_timeout: "below query_wait_timeout, or waiting clients are dropped before the reserve opens",
    query_timeout: "0 or clearly above statement_timeout: PostgreSQL cancels first and the client gets SQLSTATE 57014",
    idle_transaction_timeout:
        "frees a server connection held by a client idle in a transaction; below query_timeout, which would end the client first",
    server_connect_timeout:
        "a connect toward a primary that vanished (crash, switchover) gives up fast, so the pool reaches the new one (default 15)",
    server_login_retry: "after a PostgreSQL restart PgBouncer refuses every client until this has passed (default 15)",
    server_lifetime:
        "a server connection opened before a primary change (to a node that is no longer the primary) lives at most this long (default 3600)",
    tcp_user_timeout:
        "ms a query to a frozen or vanished PostgreSQL may wait for TCP acknowledgements before the connection fails (default 0: never)",
    tcp_keepidle: "idle server connections to a dead PostgreSQL are noticed within keepidle + keepintvl x keepcnt s (OS default: hours)",
    dns_max_ttl: "follows a moved primary record within postgres.hostRecordTtlSeconds (default 15)",
    ignore_startup_parameters: "drivers send these; the statement timeout comes from role/database settings, not 'options'",
};

/**
 * PgBouncer's scram-sha-256 refuses a userlist md5 secret, and the hand-made login has one: while the cutover
 * runs PgBouncer checks passwords in md5 mode, which still uses SCRAM for every user whose secret is SCRAM.
 */
function authTypeLines(cfg: TierConfig): string[] {
    const configured = cfg.pgbouncer.settings.auth_type;
    if (!legacyLoginLive(cfg) || configured === "md5") return [iniLine("auth_type", configured)];
    return [
        `;; cutover: md5 for the hand-made login's md5 secret; SCRAM users still log in with SCRAM (configured: ${configured})`,
        iniLine("auth_type", "md5"),
    ];
}

/** pgbouncer.ini for one PgBouncer host. */
export function renderPgbouncerIni(cfg: TierConfig, stack: string): string {
    const pg = cfg.postgres;
    const pb = cfg.pgbouncer;
    const lines = [
        `;; pgbouncer.ini for receiver-tier stack "${stack}". Rendered from stack config; do not edit on the host.`,
        "",
        "[databases]",
        ";; a server connection to a node in recovery ends itself before any client gets it",
        `${pb.databaseAlias} = host=${pg.host} port=${pg.port} dbname=${pg.database} connect_query='${REFUSE_STANDBY_QUERY}'`,
        "",
        "[pgbouncer]",
        iniLine("listen_addr", pb.listenAddr),
        iniLine("listen_port", pb.port),
        iniLine("unix_socket_dir", HOST_PATHS.pgbouncerSocketDir),
        iniLine("logfile", HOST_PATHS.pgbouncerLog),
        iniLine("pidfile", HOST_PATHS.pgbouncerPid),
        iniLine("auth_file", HOST_PATHS.userlist),
        ";; SHOW POOLS / SHOW CONFIG need a stats user; PAUSE / RESUME / RELOAD (npm run switchover) an operator's admin login",
        iniLine(
            "stats_users",
            statsLogins(cfg).accepted.map((login) => login.name),
        ),
        iniLine(
            "admin_users",
            adminLogins(cfg).accepted.map((login) => login.name),
        ),
        ";; hard cap per host = default_pool_size + reserve_pool_size, checked against postgres.maxConnections",
        iniLine("max_db_connections", serverConnectionsPerHost(cfg)),
        ";; a client's session SET (statement_timeout = 0, SET ROLE NONE) must not reach the next client of the server",
        ";; connection: in transaction mode PgBouncer runs server_reset_query only with server_reset_query_always = 1.",
        ";; DISCARD ALL's RESET ALL restores the role's own settings (its statement_timeout and role)",
        iniLine("server_reset_query", SERVER_RESET_QUERY),
        iniLine("server_reset_query_always", 1),
    ];
    for (const [key, value] of Object.entries(pb.settings) as [keyof PgbouncerSettings, IniValue][]) {
        const reason = REASONS[key];
        if (reason) lines.push(`;; ${reason}`);
        lines.push(...(key === "auth_type" ? authTypeLines(cfg) : [iniLine(key, value)]));
    }
    if (pg.caBundle !== undefined) {
        lines.push(";; PostgreSQL's certificate must chain to postgres.caBundle", iniLine("server_tls_ca_file", HOST_PATHS.postgresCa));
    }
    if (pgbouncerServesTls(cfg)) {
        lines.push(
            `;; the stack's certificate for ${pb.dnsName}; receivers connect with sslmode=verify-full`,
            iniLine("client_tls_cert_file", HOST_PATHS.pgbouncerTlsCert),
            iniLine("client_tls_key_file", HOST_PATHS.pgbouncerTlsKey),
        );
    }
    return lines.join("\n") + "\n";
}
