import { durationToMs } from "./duration";
import { adoptionIdsMatch } from "./adoption";
import { configKey, Problem } from "./problems";
import { SERVER_SSLMODES, Sslmode, TierConfig } from "./schema";

// Cross-field rules from DESIGN.md "Where the runbook is wrong". Each returns its findings.

/** Seconds a query_timeout must stay above the statement timeout so PostgreSQL, not PgBouncer, cancels. */
export const QUERY_TIMEOUT_MARGIN_SECONDS = 5;

const error = (path: string[], message: string): Problem => ({ path: configKey(path), message, severity: "error" });
const warning = (path: string[], message: string): Problem => ({ path: configKey(path), message, severity: "warning" });

/** Server connections one PgBouncer host may open to the database: the rendered max_db_connections. */
export function serverConnectionsPerHost(cfg: TierConfig): number {
    const s = cfg.pgbouncer.settings;
    return s.default_pool_size + s.reserve_pool_size;
}

/**
 * PgBouncer hosts that may be connected to PostgreSQL at once: a roll on AWS launches each
 * replacement before it retires the old host, so one more than configured.
 */
export function pgbouncerHostsDuringRoll(cfg: TierConfig): number {
    return cfg.platform === "aws" ? cfg.pgbouncer.hosts + 1 : cfg.pgbouncer.hosts;
}

/** Connections all receivers may hold at once towards PgBouncer. */
export function receiverClientConnections(cfg: TierConfig): number {
    const { instances, gunicorn, dbPool } = cfg.receiver;
    return instances * gunicorn.workers * (dbPool.max + dbPool.maxOverflow);
}

/** What PostgreSQL leaves to the whole PgBouncer fleet. */
export function postgresBudget(cfg: TierConfig): number {
    const pg = cfg.postgres;
    return pg.maxConnections - pg.superuserReservedConnections - pg.reservedForOtherClients;
}

/** Requests one Gunicorn worker serves at once, hence DB connections it can use at once. */
export function workerConcurrency(cfg: TierConfig): number {
    // sync serves one request; gthread (which sync becomes with threads > 1) one per thread.
    return cfg.receiver.gunicorn.threads ?? 1;
}

export function reservePoolReachable(cfg: TierConfig): Problem[] {
    const s = cfg.pgbouncer.settings;
    // PgBouncer reads reserve_pool_timeout 0 as "no reserve pool", whatever reserve_pool_size says.
    if (
        s.reserve_pool_size === 0 ||
        (s.reserve_pool_timeout > 0 && (s.query_wait_timeout === 0 || s.reserve_pool_timeout < s.query_wait_timeout))
    ) {
        return [];
    }
    const why =
        s.reserve_pool_timeout === 0
            ? "0 disables the reserve pool in PgBouncer; set it above 0 and below query_wait_timeout, or set reserve_pool_size to 0"
            : `must be below query_wait_timeout (${s.query_wait_timeout}s), or waiting clients are dropped first`;
    return [
        error(
            ["pgbouncer", "settings", "reserve_pool_timeout"],
            `reserve pool never activates: reserve_pool_timeout (${s.reserve_pool_timeout}s) ${why}`,
        ),
    ];
}

export function queryTimeoutClearOfStatementTimeout(cfg: TierConfig): Problem[] {
    const queryTimeout = cfg.pgbouncer.settings.query_timeout;
    const statementSeconds = durationToMs(cfg.receiverRole.statementTimeout) / 1000;
    if (queryTimeout === 0 || statementSeconds === 0 || queryTimeout >= statementSeconds + QUERY_TIMEOUT_MARGIN_SECONDS) {
        return [];
    }
    return [
        error(
            ["pgbouncer", "settings", "query_timeout"],
            `races the ${cfg.receiverRole.statementTimeout} statement timeout: use 0 or at least ${statementSeconds + QUERY_TIMEOUT_MARGIN_SECONDS}s so PostgreSQL cancels the query instead of PgBouncer dropping the client`,
        ),
    ];
}

export function clientCapacity(cfg: TierConfig): Problem[] {
    const s = cfg.pgbouncer.settings;
    const clients = receiverClientConnections(cfg);
    const limit = s.max_client_conn - cfg.pgbouncer.clientHeadroom;
    if (clients <= limit) {
        return [];
    }
    const { instances, gunicorn, dbPool } = cfg.receiver;
    return [
        error(
            ["pgbouncer", "settings", "max_client_conn"],
            `${instances} receivers x ${gunicorn.workers} workers x (dbPool.max ${dbPool.max} + maxOverflow ${dbPool.maxOverflow}) = ${clients} clients exceeds max_client_conn ${s.max_client_conn} - clientHeadroom ${cfg.pgbouncer.clientHeadroom} = ${limit} (one host must carry all clients when the others fail)`,
        ),
    ];
}

export function serverCapacity(cfg: TierConfig): Problem[] {
    const s = cfg.pgbouncer.settings;
    const hosts = pgbouncerHostsDuringRoll(cfg);
    const needed = hosts * serverConnectionsPerHost(cfg);
    const budget = postgresBudget(cfg);
    if (needed <= budget) {
        return [];
    }
    const pg = cfg.postgres;
    const counted = hosts === cfg.pgbouncer.hosts ? `${hosts} hosts` : `(${cfg.pgbouncer.hosts} hosts + 1 during a roll)`;
    return [
        error(
            ["pgbouncer", "settings", "default_pool_size"],
            `${counted} x (default_pool_size ${s.default_pool_size} + reserve_pool_size ${s.reserve_pool_size}) = ${needed} server connections exceeds postgres.maxConnections ${pg.maxConnections} - superuserReservedConnections ${pg.superuserReservedConnections} - reservedForOtherClients ${pg.reservedForOtherClients} = ${budget}`,
        ),
    ];
}

export function minPoolWithinDefault(cfg: TierConfig): Problem[] {
    const s = cfg.pgbouncer.settings;
    return s.min_pool_size <= s.default_pool_size
        ? []
        : [
              error(
                  ["pgbouncer", "settings", "min_pool_size"],
                  `min_pool_size ${s.min_pool_size} is above default_pool_size ${s.default_pool_size}`,
              ),
          ];
}

export function dbPoolMinWithinMax(cfg: TierConfig): Problem[] {
    const p = cfg.receiver.dbPool;
    return p.min <= p.max ? [] : [error(["receiver", "dbPool", "min"], `min ${p.min} is above max ${p.max}`)];
}

export function burstAtLeastRate(cfg: TierConfig): Problem[] {
    const s = cfg.sender;
    return s.burstLimit >= s.maxQps
        ? []
        : [
              error(
                  ["sender", "burstLimit"],
                  `burstLimit ${s.burstLimit}/s is below maxQps ${s.maxQps}/s, so the steady rate could never be reached`,
              ),
          ];
}

export function platformSectionPresent(cfg: TierConfig): Problem[] {
    if (cfg.platform === "aws" && !cfg.aws) {
        return [
            error(
                ["aws"],
                "platform aws needs the aws section (vpcId, privateSubnetIds, publicSubnetIds, postgresSecurityGroupId, certificateArn, publicZoneId, privateZoneId)",
            ),
        ];
    }
    if (cfg.platform === "docker" && cfg.pgbouncer.hosts !== 1) {
        return [error(["pgbouncer", "hosts"], `platform docker runs one PgBouncer container; set hosts to 1 (got ${cfg.pgbouncer.hosts})`)];
    }
    if (cfg.platform === "docker" && cfg.pgbouncer.settings.client_tls_sslmode !== "disable") {
        return [
            error(
                ["pgbouncer", "settings", "client_tls_sslmode"],
                "platform docker ships no certificate to the PgBouncer container; set disable (the local stack is plaintext)",
            ),
        ];
    }
    return [];
}

const TLS_STRENGTH: readonly Sslmode[] = SERVER_SSLMODES;
const strength = (mode: Sslmode) => TLS_STRENGTH.indexOf(mode);

/** PgBouncer's connections to PostgreSQL are checked at least as strictly as the stack's own (postgres.sslmode). */
export function serverTlsAsStrictAsPostgres(cfg: TierConfig): Problem[] {
    const required = cfg.postgres.sslmode;
    const pooled = cfg.pgbouncer.settings.server_tls_sslmode;
    return strength(required) < strength("require") || strength(pooled) >= strength(required)
        ? []
        : [
              error(
                  ["pgbouncer", "settings", "server_tls_sslmode"],
                  `'${pooled}' checks PostgreSQL's certificate less strictly than postgres.sslmode '${required}'; use ${required}`,
              ),
          ];
}

/** Largest value an SSM parameter takes (advanced tier), which delivers the CA bundle to the PgBouncer hosts. */
export const CA_BUNDLE_MAX_BYTES = 8192;

/** verify-ca/verify-full need the CA bundle PostgreSQL's certificate chains to. */
export function caBundleForVerification(cfg: TierConfig): Problem[] {
    const bundle = cfg.postgres.caBundle;
    if (bundle !== undefined) {
        const bytes = Buffer.byteLength(bundle, "utf8");
        return bytes <= CA_BUNDLE_MAX_BYTES
            ? []
            : [
                  error(
                      ["postgres", "caBundle"],
                      `${bytes} bytes exceeds the ${CA_BUNDLE_MAX_BYTES} an SSM parameter holds; ship only the CAs of this region (e.g. the RDS regional bundle, not the global one)`,
                  ),
              ];
    }
    const verifying: [string[], Sslmode][] = [
        [["postgres", "sslmode"], cfg.postgres.sslmode],
        [["pgbouncer", "settings", "server_tls_sslmode"], cfg.pgbouncer.settings.server_tls_sslmode],
    ];
    return verifying
        .filter(([, mode]) => mode.startsWith("verify"))
        .map(([path, mode]) => error(path, `'${mode}' checks PostgreSQL's certificate against postgres.caBundle, which is not set`));
}

/** The public name receivers answer on: each aws stack states its own, never a default it could share. */
export function receiverDomainStated(cfg: TierConfig): Problem[] {
    return cfg.platform === "aws" && cfg.receiver.domain === undefined
        ? [error(["receiver", "domain"], "platform aws needs the stack's own public domain (e.g. api-canary.deltacrown.gg for canary)")]
        : [];
}

export function optionsParameterIgnored(cfg: TierConfig): Problem[] {
    const ignored = cfg.pgbouncer.settings.ignore_startup_parameters;
    return ignored.includes("options")
        ? []
        : [
              warning(
                  ["pgbouncer", "settings", "ignore_startup_parameters"],
                  "without 'options' PgBouncer refuses clients that send a startup 'options' parameter (the runbook's Django OPTIONS); the statement timeout comes from the role and database settings instead",
              ),
          ];
}

export function asyncOnlyGunicornSettings(cfg: TierConfig): Problem[] {
    const g = cfg.receiver.gunicorn;
    if (g.worker_class !== "sync") {
        return [];
    }
    const ignored = (["worker_connections", "keepalive"] as const)
        .filter((key) => g[key] !== undefined)
        .map((key) => warning(["receiver", "gunicorn", key], "has no effect with worker_class 'sync'"));
    const switched =
        (g.threads ?? 1) > 1
            ? [warning(["receiver", "gunicorn", "threads"], "above 1 makes Gunicorn run gthread workers instead of sync")]
            : [];
    return [...ignored, ...switched];
}

export function idlePoolConnections(cfg: TierConfig): Problem[] {
    const p = cfg.receiver.dbPool;
    const concurrency = workerConcurrency(cfg);
    return p.max + p.maxOverflow <= concurrency
        ? []
        : [
              warning(
                  ["receiver", "dbPool", "max"],
                  `a ${cfg.receiver.gunicorn.worker_class} worker uses at most ${concurrency} connection(s) at once; max ${p.max} + maxOverflow ${p.maxOverflow} mostly holds idle PgBouncer client slots`,
              ),
          ];
}

export function idleTransactionsBounded(cfg: TierConfig): Problem[] {
    const roleMs = durationToMs(cfg.receiverRole.idleInTransactionSessionTimeout);
    return roleMs > 0 || cfg.pgbouncer.settings.idle_transaction_timeout > 0
        ? []
        : [
              warning(
                  ["receiverRole", "idleInTransactionSessionTimeout"],
                  "neither this nor pgbouncer idle_transaction_timeout is set: an idle-in-transaction session holds a server connection forever",
              ),
          ];
}

export function gunicornOutlivesStatement(cfg: TierConfig): Problem[] {
    const timeout = cfg.receiver.gunicorn.timeout;
    const statementSeconds = durationToMs(cfg.receiverRole.statementTimeout) / 1000;
    return timeout > statementSeconds
        ? []
        : [
              warning(
                  ["receiver", "gunicorn", "timeout"],
                  `${timeout}s does not exceed the ${cfg.receiverRole.statementTimeout} statement timeout: workers are killed before PostgreSQL answers`,
              ),
          ];
}

export const RULES = [
    reservePoolReachable,
    queryTimeoutClearOfStatementTimeout,
    clientCapacity,
    serverCapacity,
    minPoolWithinDefault,
    dbPoolMinWithinMax,
    burstAtLeastRate,
    platformSectionPresent,
    serverTlsAsStrictAsPostgres,
    caBundleForVerification,
    receiverDomainStated,
    adoptionIdsMatch,
    optionsParameterIgnored,
    asyncOnlyGunicornSettings,
    idlePoolConnections,
    idleTransactionsBounded,
    gunicornOutlivesStatement,
];

export function checkRules(cfg: TierConfig): Problem[] {
    return RULES.flatMap((rule) => rule(cfg));
}
