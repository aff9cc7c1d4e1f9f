import { describe, expect, it } from "vitest";
import { QUERY_TIMEOUT_MARGIN_SECONDS } from "../../../../components/config/rules";
import { pgbouncerSettingsSchema } from "../../../../components/schema/schema";
import { REFUSE_STANDBY_QUERY, renderPgbouncerIni } from "../../../../components/render/pgbouncerIni";
import { iniSection, parseIni } from "../../support/fileParsers";
import { loadCanary, loadCanaryWith } from "../../support/stackConfig";

/** runbook.md "PgBouncer Configuration": the [pgbouncer] values canary keeps as they are (pool sizes: see below). */
const RUNBOOK_PGBOUNCER = {
    pool_mode: "transaction",
    max_client_conn: "500",
    min_pool_size: "5",
    auth_file: "/etc/pgbouncer/userlist.txt",
    log_connections: "1",
    log_disconnections: "1",
    log_pooler_errors: "1",
    server_idle_timeout: "30",
    query_wait_timeout: "3",
} as const;

/** runbook.md: ALTER ROLE webhook_receiver SET statement_timeout = '5s'. */
const RUNBOOK_STATEMENT_TIMEOUT_SECONDS = 5;

/** Settings PgBouncer 1.18 knows (docs/config.md) that this stack may write; an unknown key stops PgBouncer at start. */
const PGBOUNCER_118_KEYS = new Set([
    "server_reset_query",
    "server_reset_query_always",
    "listen_addr",
    "listen_port",
    "unix_socket_dir",
    "logfile",
    "pidfile",
    "auth_file",
    "auth_type",
    "stats_users",
    "admin_users",
    "max_db_connections",
    "max_user_connections",
    "pool_mode",
    "max_client_conn",
    "default_pool_size",
    "min_pool_size",
    "reserve_pool_size",
    "reserve_pool_timeout",
    "server_idle_timeout",
    "server_lifetime",
    "server_connect_timeout",
    "server_login_retry",
    "server_tls_sslmode",
    "server_tls_ca_file",
    "client_tls_sslmode",
    "client_tls_cert_file",
    "client_tls_key_file",
    "query_timeout",
    "query_wait_timeout",
    "client_idle_timeout",
    "client_login_timeout",
    "idle_transaction_timeout",
    "ignore_startup_parameters",
    "tcp_keepalive",
    "tcp_keepidle",
    "tcp_keepintvl",
    "tcp_keepcnt",
    "tcp_user_timeout",
    "dns_max_ttl",
    "log_connections",
    "log_disconnections",
    "log_pooler_errors",
    "log_stats",
    "stats_period",
]);

describe("pgbouncer.ini for the canary stack", () => {
    const ini = renderPgbouncerIni(loadCanary(), "canary");
    const pgbouncer = iniSection(ini, "pgbouncer");
    const number = (key: string) => {
        const text = pgbouncer[key];
        expect(text, key).toMatch(/^\d+(\.\d+)?$/);
        return Number(text);
    };

    it("has exactly the [databases] and [pgbouncer] sections", () => {
        expect(Object.keys(parseIni(ini)).sort()).toEqual(["databases", "pgbouncer"]);
    });

    it("routes the runbook's alias to the primary's deltacrown database", () => {
        expect(iniSection(ini, "databases")).toEqual({
            deltacrown_receiver: `host=postgres-primary.internal port=5432 dbname=deltacrown connect_query='${REFUSE_STANDBY_QUERY}'`,
        });
    });

    for (const [key, value] of Object.entries(RUNBOOK_PGBOUNCER)) {
        it(`keeps the runbook's ${key} = ${value}`, () => {
            expect(pgbouncer[key]).toBe(value);
        });
    }

    it("uses scram-sha-256 instead of the runbook's md5, which PostgreSQL 14+ SCRAM roles refuse (mistake 2)", () => {
        expect(pgbouncer.auth_type).toBe("scram-sha-256");
    });

    it("opens the reserve before query_wait_timeout drops the waiting client (mistake 3)", () => {
        expect(number("reserve_pool_size")).toBeGreaterThan(0);
        expect(number("reserve_pool_timeout")).toBeLessThan(number("query_wait_timeout"));
    });

    it(`sets query_timeout to 0 or at least statement_timeout + ${QUERY_TIMEOUT_MARGIN_SECONDS}s so PostgreSQL cancels first (mistake 4)`, () => {
        const queryTimeout = number("query_timeout");
        expect(
            queryTimeout === 0 || queryTimeout >= RUNBOOK_STATEMENT_TIMEOUT_SECONDS + QUERY_TIMEOUT_MARGIN_SECONDS,
            `query_timeout ${queryTimeout}`,
        ).toBe(true);
        expect(queryTimeout).not.toBe(RUNBOOK_STATEMENT_TIMEOUT_SECONDS);
    });

    it("ignores the startup parameters drivers send, including 'options' (mistake 1)", () => {
        const ignored = (pgbouncer.ignore_startup_parameters ?? "").split(",").map((name) => name.trim());
        expect(ignored).toEqual(expect.arrayContaining(["options", "extra_float_digits"]));
    });

    it("lets the active stats login run SHOW POOLS (mistake 5), and only the operators' admin login the admin console", () => {
        expect(pgbouncer.stats_users).toBe("pgbouncer_stats_a");
        expect(pgbouncer.admin_users).toBe("pgbouncer_admin_a");
    });

    it("caps server connections at default_pool_size + reserve_pool_size (mistake 9)", () => {
        expect(number("max_db_connections")).toBe(number("default_pool_size") + number("reserve_pool_size"));
        expect(number("max_db_connections")).toBe(25);
    });

    it("sizes canary's pools so one extra host during a roll stays within PostgreSQL's budget; the defaults keep the runbook's 25/10", () => {
        const cfg = loadCanary();
        const budget = cfg.postgres.maxConnections - cfg.postgres.superuserReservedConnections - cfg.postgres.reservedForOtherClients;
        expect((cfg.pgbouncer.hosts + 1) * number("max_db_connections")).toBeLessThanOrEqual(budget);
        expect([number("default_pool_size"), number("reserve_pool_size")]).toEqual([20, 5]);
        expect(pgbouncerSettingsSchema.parse({})).toMatchObject({ default_pool_size: 25, reserve_pool_size: 10 });
    });

    it("ends idle-in-transaction clients (mistake 10)", () => {
        expect(number("idle_transaction_timeout")).toBeGreaterThan(0);
    });

    it("writes only settings PgBouncer 1.18 knows", () => {
        const unknown = Object.keys(pgbouncer).filter((key) => !PGBOUNCER_118_KEYS.has(key));
        expect(unknown).toEqual([]);
    });

    it("listens on the configured port", () => {
        expect(pgbouncer.listen_port).toBe("6432");
    });
});

describe("pgbouncer.ini follows the config", () => {
    it("renders md5 when a stack asks for the runbook's auth_type", () => {
        expect(
            iniSection(renderPgbouncerIni(loadCanaryWith(["pgbouncer.settings.auth_type", "md5"]), "canary"), "pgbouncer").auth_type,
        ).toBe("md5");
    });

    it("recomputes max_db_connections from the pool sizes", () => {
        const cfg = loadCanaryWith(["pgbouncer.settings.default_pool_size", 20], ["pgbouncer.settings.reserve_pool_size", 5]);
        expect(iniSection(renderPgbouncerIni(cfg, "canary"), "pgbouncer").max_db_connections).toBe("25");
    });

    it("points [databases] at another PostgreSQL host, port and database", () => {
        const cfg = loadCanaryWith(
            ["postgres.host", "10.0.0.5"],
            ["postgres.port", 5433],
            ["postgres.database", "other_db"],
            ["pgbouncer.databaseAlias", "alias_db"],
        );
        expect(iniSection(renderPgbouncerIni(cfg, "canary"), "databases")).toEqual({
            alias_db: `host=10.0.0.5 port=5433 dbname=other_db connect_query='${REFUSE_STANDBY_QUERY}'`,
        });
    });
});
