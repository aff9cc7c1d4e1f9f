import { durationToMs } from "../schema/duration";
import { adoptionIdsMatch } from "./adoption";
import { alarmsReachSomeone } from "./alarmRecipients";
import {
    HEALTH_CONSOLE_CONNECTIONS,
    pgbouncerHostsDuringRoll,
    postgresBudget,
    receiverClientConnections,
    receiverRequestCapacity,
    serverConnectionsPerHost,
    workerConcurrency,
} from "../model/capacity";
import {
    ALB_IDLE_TIMEOUT_SECONDS,
    BOOT_ALLOWANCE_SECONDS,
    GROUP_CAPACITY_WAIT_SECONDS,
    LAUNCH_HOOK_TIMEOUT_SECONDS,
} from "../model/rollout";
import { hostRequestCapacity, upstreamMaxConns } from "../model/proxy";
import { CRASH_WINDOW_MARGIN_SECONDS, crashWindowSeconds } from "../model/crashWindow";
import { adminLogins, receiverLogins, statsLogins } from "../model/logins";
import { configKey, Problem } from "../schema/problems";
import { ANSWER_MARGIN_SECONDS, answerWithinSeconds, retryBudgetSeconds } from "../model/answerDeadline";
import { hasPlatformSection, SchemaConfig, SERVER_SSLMODES, Sslmode } from "../schema/schema";

// Cross-field rules: the runbook's known mistakes (settings that do not add up or do not work as
// written, README "Deviations from the runbook") refused or warned about with the key and the why;
// README "Rules checked before anything is deployed" lists them. Each returns its findings.

/** Seconds a query_timeout must stay above the statement timeout so PostgreSQL, not PgBouncer, cancels. */
export const QUERY_TIMEOUT_MARGIN_SECONDS = 5;

const error = (path: string[], message: string): Problem => ({ path: configKey(path), message, severity: "error" });
const warning = (path: string[], message: string): Problem => ({ path: configKey(path), message, severity: "warning" });

/** Below this ratio of capacity to what the senders may demand, the headroom is called thin (a warning). */
export const SENDER_HEADROOM_RATIO = 1.25;

const round = (value: number) => Number(value.toFixed(2));

/**
 * The receivers against the sender contract: every request the senders may have in flight is being
 * served (not queued in a listen backlog, where a database stall turns into sender timeouts), and
 * maxQps at the measured service time fits (Little's law: requests in service = rate x time).
 */
export function senderCapacity(cfg: SchemaConfig): Problem[] {
    // The local stack serves a developer's requests; no sender works to the published contract there.
    if (cfg.platform === "docker") return [];
    const { instances, gunicorn, dbPool, serviceTimeMs } = cfg.receiver;
    const s = cfg.sender;
    const capacity = receiverRequestCapacity(cfg);
    const threads = `${workerConcurrency(cfg)}${workerConcurrency(cfg) === 1 && gunicorn.worker_class === "sync" ? " (sync)" : ""}`;
    const supply = `${instances} receivers x ${gunicorn.workers} workers x min(threads ${threads}, dbPool.max ${dbPool.max} + maxOverflow ${dbPool.maxOverflow}) = ${capacity} concurrent requests`;
    const demands = [
        { key: "maxInflight", need: s.maxInflight, what: `sender.maxInflight ${s.maxInflight} requests in flight` },
        {
            key: "maxQps",
            need: (s.maxQps * serviceTimeMs) / 1000,
            what: `sender.maxQps ${s.maxQps}/s x receiver.serviceTimeMs ${serviceTimeMs} ms = ${round((s.maxQps * serviceTimeMs) / 1000)} requests in service`,
        },
    ];
    return demands.flatMap(({ key, need, what }) => {
        if (capacity < need) {
            return [
                error(
                    ["sender", key],
                    `${supply} cannot absorb ${what}: raise receiver.instances, gunicorn.workers or gunicorn.threads (one dbPool connection per thread), or lower the sender limit`,
                ),
            ];
        }
        const wanted = need * SENDER_HEADROOM_RATIO;
        return capacity < wanted
            ? [
                  warning(
                      ["sender", key],
                      `thin headroom: ${supply} is below ${what} x ${SENDER_HEADROOM_RATIO} = ${round(wanted)}; a slow database or one lost receiver queues requests`,
                  ),
              ]
            : [];
    });
}

/** The reference receiver ships on a cloud stack only when it is named on purpose. */
export function referenceAppChosen(cfg: SchemaConfig): Problem[] {
    const app = cfg.receiver.app;
    if (app.artifactUrl !== undefined && app.reference === true) {
        return [
            error(["receiver", "app", "reference"], "true contradicts receiver.app.artifactUrl: choose the artifact or the reference app"),
        ];
    }
    // Every aws stack is internet-facing behind the ALB; only the local docker stack runs the reference app by design.
    if (cfg.platform !== "aws" || app.artifactUrl !== undefined || app.reference === true) return [];
    return [
        error(
            ["receiver", "app"],
            "names no app, so this aws stack would serve the reference receiver (files/receiver/webhook_receiver.py): set receiver.app.artifactUrl to the real app's s3://....tar.gz, or receiver.app.reference: true to deploy the reference receiver on purpose",
        ),
    ];
}

export function reservePoolReachable(cfg: SchemaConfig): Problem[] {
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

export function queryTimeoutClearOfStatementTimeout(cfg: SchemaConfig): Problem[] {
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

/** PgBouncer's query_timeout ends a client idle in a transaction too: idle_transaction_timeout only acts below it. */
export function idleTransactionBeforeQueryTimeout(cfg: SchemaConfig): Problem[] {
    const s = cfg.pgbouncer.settings;
    if (s.idle_transaction_timeout === 0 || s.query_timeout === 0 || s.idle_transaction_timeout < s.query_timeout) return [];
    return [
        error(
            ["pgbouncer", "settings", "idle_transaction_timeout"],
            `${s.idle_transaction_timeout}s never fires: query_timeout ${s.query_timeout}s ends a client idle in a transaction first; use below ${s.query_timeout}s, or 0 to leave it to the role's idle_in_transaction_session_timeout`,
        ),
    ];
}

/**
 * The receiver retries a lost connection and answers every webhook inside the sender's request timeout:
 * the retry budget (sender timeout - statement timeout - margin) must leave room for at least one retry.
 */
export function retryBudgetFitsSenderTimeout(cfg: SchemaConfig): Problem[] {
    const budget = retryBudgetSeconds(cfg);
    if (budget > 0) return [];
    return [
        error(
            ["sender", "requestTimeoutSeconds"],
            `${cfg.sender.requestTimeoutSeconds}s - statement timeout ${cfg.receiverRole.statementTimeout} - margin ${ANSWER_MARGIN_SECONDS}s = ${round(budget)}s leaves the receiver no time to retry a lost database connection before answering by ${answerWithinSeconds(cfg)}s; raise it above ${round(cfg.sender.requestTimeoutSeconds - budget)}s or lower the statement timeout`,
        ),
    ];
}

export function clientCapacity(cfg: SchemaConfig): Problem[] {
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
            `${instances} receivers x ${gunicorn.workers} workers x (dbPool.max ${dbPool.max} + maxOverflow ${dbPool.maxOverflow} + ${HEALTH_CONSOLE_CONNECTIONS} health console) = ${clients} clients exceeds max_client_conn ${s.max_client_conn} - clientHeadroom ${cfg.pgbouncer.clientHeadroom} = ${limit} (one host must carry all clients when the others fail)`,
        ),
    ];
}

export function serverCapacity(cfg: SchemaConfig): Problem[] {
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

export function minPoolWithinDefault(cfg: SchemaConfig): Problem[] {
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

export function dbPoolMinWithinMax(cfg: SchemaConfig): Problem[] {
    const p = cfg.receiver.dbPool;
    return p.min <= p.max ? [] : [error(["receiver", "dbPool", "min"], `min ${p.min} is above max ${p.max}`)];
}

export function burstAtLeastRate(cfg: SchemaConfig): Problem[] {
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

export function platformSectionPresent(cfg: SchemaConfig): Problem[] {
    if (!hasPlatformSection(cfg)) {
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
export function serverTlsAsStrictAsPostgres(cfg: SchemaConfig): Problem[] {
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
export function caBundleForVerification(cfg: SchemaConfig): Problem[] {
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
export function receiverDomainStated(cfg: SchemaConfig): Problem[] {
    return cfg.platform === "aws" && cfg.receiver.domain === undefined
        ? [error(["receiver", "domain"], "platform aws needs the stack's own public domain (e.g. api-canary.deltacrown.gg for canary)")]
        : [];
}

export function optionsParameterIgnored(cfg: SchemaConfig): Problem[] {
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

export function asyncOnlyGunicornSettings(cfg: SchemaConfig): Problem[] {
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

export function idlePoolConnections(cfg: SchemaConfig): Problem[] {
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

export function idleTransactionsBounded(cfg: SchemaConfig): Problem[] {
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

export function gunicornOutlivesStatement(cfg: SchemaConfig): Problem[] {
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

/**
 * The chain ALB -> nginx -> Gunicorn closes idle connections from the front: each hop keeps them longer
 * than the one before it (a hop that closes first turns the next reuse into a 502), and nginx waits for the
 * app's slowest answer but gives up before the ALB does (a 503 + Retry-After rather than the ALB's bare 504).
 */
export function proxyChainCoherent(cfg: SchemaConfig): Problem[] {
    const n = cfg.receiver.nginx;
    const alb = `the ALB's idle timeout (${ALB_IDLE_TIMEOUT_SECONDS}s)`;
    const problems: Problem[] = [];
    if (n.keepalive_timeout <= ALB_IDLE_TIMEOUT_SECONDS) {
        problems.push(
            error(
                ["receiver", "nginx", "keepalive_timeout"],
                `${n.keepalive_timeout}s must be above ${alb}: nginx would close connections the ALB still reuses (502)`,
            ),
        );
    }
    // The app's slowest legitimate answer: a wait for its pool, a wait in PgBouncer, then the statement.
    const appSeconds =
        cfg.receiver.dbPool.timeout + cfg.pgbouncer.settings.query_wait_timeout + durationToMs(cfg.receiverRole.statementTimeout) / 1000;
    if (n.proxy_read_timeout <= appSeconds || n.proxy_read_timeout >= ALB_IDLE_TIMEOUT_SECONDS) {
        problems.push(
            error(
                ["receiver", "nginx", "proxy_read_timeout"],
                `${n.proxy_read_timeout}s must be above the app's slowest answer (dbPool.timeout ${cfg.receiver.dbPool.timeout}s + query_wait_timeout ${cfg.pgbouncer.settings.query_wait_timeout}s + statement timeout ${cfg.receiverRole.statementTimeout} = ${round(appSeconds)}s) and below ${alb}: nginx must not cut off an answer on its way, and must answer 503 + Retry-After before the ALB answers 504 without one`,
            ),
        );
    }
    if (n.port === cfg.receiver.port) {
        problems.push(
            error(["receiver", "nginx", "port"], `${n.port} is receiver.port, Gunicorn's own; nginx needs a port of its own on the host`),
        );
    }
    return problems;
}

/** How many times its even share of the senders' inflight one receiver host admits before nginx sheds. */
export const HOST_SHARE_FACTOR = 2;

/**
 * nginx sheds only beyond the sender contract: round robin keeps more requests open on a slower host
 * (a worker being recycled, a busy core), and one of two hosts lost sends it everything, so each
 * host's upstream max_conns must admit twice its even share of sender.maxInflight.
 */
export function shedOnlyBeyondContract(cfg: SchemaConfig): Problem[] {
    if (cfg.platform === "docker") return [];
    const { instances } = cfg.receiver;
    const share = Math.ceil((HOST_SHARE_FACTOR * cfg.sender.maxInflight) / instances);
    const admitted = upstreamMaxConns(cfg);
    if (admitted >= share) return [];
    return [
        error(
            ["receiver", "nginx", "upstream_queue"],
            `each host's nginx admits ${hostRequestCapacity(cfg)} served + upstream_queue ${cfg.receiver.nginx.upstream_queue} = ${admitted} requests, below ${HOST_SHARE_FACTOR} x sender.maxInflight ${cfg.sender.maxInflight} / ${instances} receivers = ${share}: requests the contract allows would get 503 whenever round robin leaves more of them open on one host; raise upstream_queue to at least ${share - hostRequestCapacity(cfg)}`,
        ),
    ];
}

/** Widest operator network that may reach PgBouncer: a /16 is a site's network, anything wider is most of the internet. */
export const WIDEST_OPERATOR_PREFIX = 16;

export function operatorAccessNarrow(cfg: SchemaConfig): Problem[] {
    return cfg.monitoring.operatorCidrs.flatMap((cidr, index) => {
        const prefix = Number(cidr.split("/")[1]);
        return prefix >= WIDEST_OPERATOR_PREFIX
            ? []
            : [
                  error(
                      ["monitoring", "operatorCidrs", String(index)],
                      `${cidr} opens PgBouncer's port to more than operators; use networks of /${WIDEST_OPERATOR_PREFIX} or narrower, or operatorSecurityGroupIds`,
                  ),
              ];
    });
}

/**
 * A host's readiness loop must decide (CONTINUE or ABANDON) while the group still holds it in the
 * launch hook and `pulumi up` still waits for it: boot allowance + deadline within both.
 */
export function readinessWithinLaunchHook(cfg: SchemaConfig): Problem[] {
    const deadline = cfg.rollout.readinessDeadlineSeconds;
    const needed = BOOT_ALLOWANCE_SECONDS + deadline;
    const room = Math.min(LAUNCH_HOOK_TIMEOUT_SECONDS, GROUP_CAPACITY_WAIT_SECONDS);
    return needed <= room
        ? []
        : [
              error(
                  ["rollout", "readinessDeadlineSeconds"],
                  `${BOOT_ALLOWANCE_SECONDS} s to boot + ${deadline} s of readiness checks = ${needed} s exceeds the launch lifecycle hook's ${LAUNCH_HOOK_TIMEOUT_SECONDS} s timeout and the group's ${GROUP_CAPACITY_WAIT_SECONDS} s wait for capacity: the hook would expire before the host decides; use at most ${room - BOOT_ALLOWANCE_SECONDS}`,
              ),
          ];
}

/**
 * During the cutover the hand-made PgBouncer's pool and the stack's fleet (one extra host during a roll) are
 * connected to PostgreSQL at once: together they must fit its budget.
 */
export function cutoverServerCapacity(cfg: SchemaConfig): Problem[] {
    if (cfg.cutover === undefined) return [];
    const s = cfg.pgbouncer.settings;
    const legacy = cfg.cutover.legacyServerConnections;
    const hosts = pgbouncerHostsDuringRoll(cfg);
    const needed = legacy + hosts * serverConnectionsPerHost(cfg);
    const budget = postgresBudget(cfg);
    if (needed <= budget) return [];
    const pg = cfg.postgres;
    const counted = hosts === cfg.pgbouncer.hosts ? `${hosts} hosts` : `(pgbouncer.hosts ${cfg.pgbouncer.hosts} + 1 during a roll)`;
    return [
        error(
            ["cutover", "legacyServerConnections"],
            `the hand-made pool's ${legacy} + ${counted} x (default_pool_size ${s.default_pool_size} + reserve_pool_size ${s.reserve_pool_size}) = ${needed} server connections exceeds postgres.maxConnections ${pg.maxConnections} - superuserReservedConnections ${pg.superuserReservedConnections} - reservedForOtherClients ${pg.reservedForOtherClients} = ${budget}; lower the stack's pool sizes until the hand-made PgBouncer is stopped (README "First deploy into an existing environment")`,
        ),
    ];
}

/** Once pgbouncer.dnsName moves to the stack's NLB, the hand-made receivers must be let in, narrowly. */
export function cutoverLegacyClientsAdmitted(cfg: SchemaConfig): Problem[] {
    if (cfg.cutover === undefined || cfg.platform !== "aws") return [];
    const { legacyClientSecurityGroupIds, legacyClientCidrs } = cfg.cutover;
    if (legacyClientSecurityGroupIds.length + legacyClientCidrs.length === 0) {
        return [
            error(
                ["cutover", "legacyClientSecurityGroupIds"],
                "names no hand-made receivers (nor legacyClientCidrs): once pgbouncer.dnsName points at the stack's NLB its security group would refuse them",
            ),
        ];
    }
    return legacyClientCidrs.flatMap((cidr, index) =>
        Number(cidr.split("/")[1]) >= WIDEST_OPERATOR_PREFIX
            ? []
            : [
                  error(
                      ["cutover", "legacyClientCidrs", String(index)],
                      `${cidr} opens PgBouncer's port to more than the hand-made receivers; use networks of /${WIDEST_OPERATOR_PREFIX} or narrower, or legacyClientSecurityGroupIds`,
                  ),
              ],
    );
}

/**
 * A delivery refused with 503 during a primary crash is sent again after Retry-After: the window in which the
 * tier still refuses, once the new primary answers, must have closed by then, or the resend is refused too.
 */
export function crashWindowWithinRetryAfter(cfg: SchemaConfig): Problem[] {
    const s = cfg.pgbouncer.settings;
    const window = crashWindowSeconds(cfg);
    const retryAfter = cfg.receiver.webhooks.retryAfterSeconds;
    if (window <= retryAfter) return [];
    return [
        error(
            ["pgbouncer", "settings", "server_login_retry"],
            `after a primary crash the tier refuses for server_connect_timeout ${s.server_connect_timeout} + server_login_retry ${s.server_login_retry} + ${CRASH_WINDOW_MARGIN_SECONDS} s margin = ${window} s once the new primary answers, longer than receiver.webhooks.retryAfterSeconds ${retryAfter}: a sender's resend after Retry-After would be refused again; shorten server_connect_timeout or server_login_retry, or raise retryAfterSeconds`,
        ),
    ];
}

/**
 * PAUSE, RESUME and RELOAD belong to operators: no receiver login, stats reader or tier role may share a name with
 * an admin login, or its holder would get (or, as a PostgreSQL role, shadow) the admin console.
 */
export function consoleLoginsSeparate(cfg: SchemaConfig): Problem[] {
    const others = new Map<string, string>([
        ...receiverLogins(cfg).both.map((login): [string, string] => [login.name, "receiverRole.name"]),
        [cfg.receiverRole.name, "receiverRole.name"],
        ...statsLogins(cfg).both.map((login): [string, string] => [login.name, "pgbouncer.statsUser"]),
        [cfg.monitor.role, "monitor.role"],
        [cfg.postgres.adminUser, "postgres.adminUser"],
    ]);
    const clashes = adminLogins(cfg).both.flatMap((login) => {
        const owner = others.get(login.name);
        return owner === undefined ? [] : [`${login.name} (also ${owner})`];
    });
    if (clashes.length === 0) return [];
    return [
        error(
            ["pgbouncer", "adminUser"],
            `admin logins ${clashes.join(", ")}: PgBouncer's admin console (PAUSE, RESUME, RELOAD) must be the operators' alone; choose another pgbouncer.adminUser`,
        ),
    ];
}

/** Longest server_lifetime: how long a connection opened before a primary change may still be used. */
export const SERVER_LIFETIME_MAX_SECONDS = 600;

/** PgBouncer re-resolves postgres.host only when its cache expires: never later than the record's own TTL. */
export function dnsCacheWithinRecordTtl(cfg: SchemaConfig): Problem[] {
    const ttl = cfg.pgbouncer.settings.dns_max_ttl;
    const record = cfg.postgres.hostRecordTtlSeconds;
    return ttl <= record
        ? []
        : [
              error(
                  ["pgbouncer", "settings", "dns_max_ttl"],
                  `${ttl} s is longer than postgres.hostRecordTtlSeconds ${record}: after a failover moves ${cfg.postgres.host}, PgBouncer would keep connecting to the old primary for up to ${ttl} s; use at most ${record}`,
              ),
          ];
}

/**
 * A PostgreSQL that died or froze under an open server connection must fail that connection before the receiver's
 * answer deadline, or PgBouncer keeps handing clients to it: tcp_user_timeout while a query waits, keepalives when idle.
 */
export function deadServerNoticed(cfg: SchemaConfig): Problem[] {
    const s = cfg.pgbouncer.settings;
    const deadlineMs = answerWithinSeconds(cfg) * 1000;
    const problems: Problem[] = [];
    if (s.tcp_user_timeout === 0 || s.tcp_user_timeout > deadlineMs) {
        problems.push(
            error(
                ["pgbouncer", "settings", "tcp_user_timeout"],
                `${s.tcp_user_timeout} ms: a query to a frozen PostgreSQL must fail within the receiver's answer deadline (sender.requestTimeoutSeconds ${cfg.sender.requestTimeoutSeconds} - ${ANSWER_MARGIN_SECONDS} s = ${deadlineMs} ms), and 0 waits for the kernel's retransmissions (about 15 minutes); use 1-${deadlineMs}`,
            ),
        );
    }
    if (s.tcp_keepalive !== 1) {
        problems.push(
            error(
                ["pgbouncer", "settings", "tcp_keepalive"],
                "must be 1: without keepalives an idle server connection to a dead PostgreSQL is kept for hours",
            ),
        );
    }
    return problems;
}

/** A server connection opened before a primary change lives at most server_lifetime; 0 would mean one use per connection. */
export function serverLifetimeBounded(cfg: SchemaConfig): Problem[] {
    const lifetime = cfg.pgbouncer.settings.server_lifetime;
    return lifetime >= 1 && lifetime <= SERVER_LIFETIME_MAX_SECONDS
        ? []
        : [
              error(
                  ["pgbouncer", "settings", "server_lifetime"],
                  `${lifetime} s: use 1-${SERVER_LIFETIME_MAX_SECONDS}; a connection opened before a primary change (to a node no longer the primary) is used until it expires, and 0 closes every connection after one use`,
              ),
          ];
}

/**
 * The receiver answers by its own deadline (its watchdog ends the attempt); PgBouncer's query_timeout comes after it,
 * since its cancel of a COMMIT waiting for a synchronous standby leaves a commit "possibly not replicated".
 */
export function queryTimeoutAfterAnswerDeadline(cfg: SchemaConfig): Problem[] {
    const timeout = cfg.pgbouncer.settings.query_timeout;
    const deadline = answerWithinSeconds(cfg);
    return timeout === 0 || timeout > deadline
        ? []
        : [
              error(
                  ["pgbouncer", "settings", "query_timeout"],
                  `${timeout} s is not after the receiver's answer deadline (sender.requestTimeoutSeconds ${cfg.sender.requestTimeoutSeconds} - ${ANSWER_MARGIN_SECONDS} s = ${deadline} s): PgBouncer would cancel first; use 0 or above ${deadline}`,
              ),
          ];
}

export const RULES = [
    reservePoolReachable,
    queryTimeoutClearOfStatementTimeout,
    idleTransactionBeforeQueryTimeout,
    retryBudgetFitsSenderTimeout,
    clientCapacity,
    senderCapacity,
    referenceAppChosen,
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
    proxyChainCoherent,
    shedOnlyBeyondContract,
    operatorAccessNarrow,
    readinessWithinLaunchHook,
    alarmsReachSomeone,
    cutoverServerCapacity,
    cutoverLegacyClientsAdmitted,
    crashWindowWithinRetryAfter,
    consoleLoginsSeparate,
    dnsCacheWithinRecordTtl,
    deadServerNoticed,
    serverLifetimeBounded,
    queryTimeoutAfterAnswerDeadline,
];

export function checkRules(cfg: SchemaConfig): Problem[] {
    return RULES.flatMap((rule) => rule(cfg));
}
