import { ALB_IDLE_TIMEOUT_SECONDS } from "../../../../components/model/rollout";
import { describe, expect, it } from "vitest";
import { parseTierConfig } from "../../../../components/config/load";
import { Problem } from "../../../../components/schema/problems";
import { adoptionIdsMatch } from "../../../../components/config/adoption";
import { alarmsReachSomeone } from "../../../../components/config/alarmRecipients";
import * as rules from "../../../../components/config/rules";
import { receiverRequestCapacity } from "../../../../components/model/capacity";
import { SchemaConfig, tierSchema } from "../../../../components/schema/schema";
import { canaryRaw, Edit, edited, problemKeys, refusedProblems, shippedCanaryRaw } from "../../support/stackConfig";
import { canaryStepRaw, CUTOVER_STEP_EDITS } from "../../../../harness/cutoverSteps";

type Rule = (cfg: SchemaConfig) => Problem[];

/** Sync workers scaled out to the sender contract: 63 receivers x 2 workers x 1 = 126 requests for maxInflight 100. */
const SYNC_WORKERS: readonly Edit[] = [
    ["receiver.gunicorn.worker_class", "sync"],
    ["receiver.gunicorn.threads", undefined],
    ["receiver.dbPool.max", 1],
    ["receiver.instances", 63],
];

/** The cutover block as Pulumi.canary.yaml ships it (step 1), and the pool sizes it ships beside it. */
const SHIPPED_CUTOVER = shippedCanaryRaw().cutover as Record<string, unknown>;
const CUTOVER_POOLS: readonly Edit[] = [
    ["pgbouncer.settings.default_pool_size", 10],
    ["pgbouncer.settings.reserve_pool_size", 4],
];

interface RuleCase {
    readonly rule: Rule;
    /** What the edit does, in the operator's words. */
    readonly behaviour: string;
    /** Edits to the valid canary stack that break this rule and nothing else. */
    readonly edits: readonly Edit[];
    /** The single finding expected, as "receiver-tier:<key path> (<severity>)". */
    readonly finding: string;
}

const errorCases: readonly RuleCase[] = [
    {
        rule: rules.shedOnlyBeyondContract,
        behaviour:
            "refuses an upstream_queue that lets a host admit less than twice its share of the senders' inflight (contract traffic shed)",
        edits: [["receiver.nginx.upstream_queue", 35]],
        finding: "receiver-tier:receiver.nginx.upstream_queue (error)",
    },
    {
        rule: rules.proxyChainCoherent,
        behaviour: "refuses an nginx keepalive_timeout at the ALB's idle timeout (the ALB would reuse a connection nginx closed: 502)",
        edits: [["receiver.nginx.keepalive_timeout", ALB_IDLE_TIMEOUT_SECONDS]],
        finding: "receiver-tier:receiver.nginx.keepalive_timeout (error)",
    },
    {
        rule: rules.proxyChainCoherent,
        behaviour: "refuses a proxy_read_timeout at the ALB's idle timeout (the ALB would answer 504 before nginx's 503)",
        edits: [["receiver.nginx.proxy_read_timeout", ALB_IDLE_TIMEOUT_SECONDS]],
        finding: "receiver-tier:receiver.nginx.proxy_read_timeout (error)",
    },
    {
        rule: rules.proxyChainCoherent,
        behaviour: "refuses nginx on Gunicorn's own port",
        edits: [["receiver.nginx.port", 8000]],
        finding: "receiver-tier:receiver.nginx.port (error)",
    },
    {
        rule: rules.reservePoolReachable,
        behaviour: "refuses reserve_pool_timeout at PgBouncer's default 5s, above query_wait_timeout 3s (runbook mistake 3)",
        edits: [["pgbouncer.settings.reserve_pool_timeout", 5]],
        finding: "receiver-tier:pgbouncer.settings.reserve_pool_timeout (error)",
    },
    {
        rule: rules.queryTimeoutClearOfStatementTimeout,
        behaviour:
            "refuses query_timeout 9, within 5 s of statement_timeout 5s, so the two race (runbook mistake 4: 5 against 5s); the runbook's 5 is also inside the answer deadline",
        edits: [["pgbouncer.settings.query_timeout", 9]],
        finding: "receiver-tier:pgbouncer.settings.query_timeout (error)",
    },
    {
        rule: rules.idleTransactionBeforeQueryTimeout,
        behaviour: "refuses the former idle_transaction_timeout 15, which query_timeout 10 always pre-empts",
        edits: [["pgbouncer.settings.idle_transaction_timeout", 15]],
        finding: "receiver-tier:pgbouncer.settings.idle_transaction_timeout (error)",
    },
    {
        rule: rules.retryBudgetFitsSenderTimeout,
        behaviour: "refuses a 7 s sender timeout: 7 - statement timeout 5 - margin 2 = 0 s to retry a lost connection",
        edits: [["sender.requestTimeoutSeconds", 7]],
        finding: "receiver-tier:sender.requestTimeoutSeconds (error)",
    },
    {
        rule: rules.clientCapacity,
        behaviour: "refuses more receiver connections (2 x 2 x (32 + 0 + 1 console) = 132) than max_client_conn 141 - headroom 10 allows",
        edits: [["pgbouncer.settings.max_client_conn", 141]],
        finding: "receiver-tier:pgbouncer.settings.max_client_conn (error)",
    },
    {
        rule: rules.senderCapacity,
        behaviour: "refuses canary's former 2 receivers x 2 sync workers = 4 requests at once for the senders' 100 in flight",
        edits: [
            ["receiver.gunicorn.worker_class", "sync"],
            ["receiver.gunicorn.threads", undefined],
            ["receiver.dbPool.max", 1],
            // nginx would queue the contract's inflight in front of the two sync workers (shedOnlyBeyondContract holds).
            ["receiver.nginx.upstream_queue", 98],
        ],
        finding: "receiver-tier:sender.maxInflight (error)",
    },
    {
        rule: rules.referenceAppChosen,
        behaviour: "refuses an aws stack that names no app artifact and does not choose the reference receiver",
        edits: [["receiver.app.reference", undefined]],
        finding: "receiver-tier:receiver.app (error)",
    },
    {
        rule: rules.serverCapacity,
        behaviour:
            "refuses (3 hosts + 1 during a roll) x (20 + 5) = 100 server connections against a PostgreSQL budget of 100 - 3 - 20 = 77",
        edits: [["pgbouncer.hosts", 3]],
        finding: "receiver-tier:pgbouncer.settings.default_pool_size (error)",
    },
    {
        rule: rules.operatorAccessNarrow,
        behaviour: "refuses an operator network wider than a /16 on PgBouncer's port",
        edits: [["monitoring.operatorCidrs", ["10.20.0.0/24", "10.0.0.0/8"]]],
        finding: "receiver-tier:monitoring.operatorCidrs.1 (error)",
    },
    {
        rule: rules.readinessWithinLaunchHook,
        behaviour:
            "refuses a readiness deadline the launch hook and the group's wait cannot hold after the boot allowance (240 s + 661 s > 900 s)",
        edits: [["rollout.readinessDeadlineSeconds", 661]],
        finding: "receiver-tier:rollout.readinessDeadlineSeconds (error)",
    },
    {
        rule: rules.serverTlsAsStrictAsPostgres,
        behaviour: "refuses PgBouncer's server_tls_sslmode 'prefer' when PostgreSQL connections must use TLS",
        edits: [["pgbouncer.settings.server_tls_sslmode", "prefer"]],
        finding: "receiver-tier:pgbouncer.settings.server_tls_sslmode (error)",
    },
    {
        rule: rules.minPoolWithinDefault,
        behaviour: "refuses min_pool_size above default_pool_size",
        edits: [["pgbouncer.settings.min_pool_size", 26]],
        finding: "receiver-tier:pgbouncer.settings.min_pool_size (error)",
    },
    {
        rule: rules.dbPoolMinWithinMax,
        behaviour: "refuses an application pool whose min is above its max",
        edits: [["receiver.dbPool.min", 33]],
        finding: "receiver-tier:receiver.dbPool.min (error)",
    },
    {
        rule: rules.burstAtLeastRate,
        behaviour: "refuses a sender burst limit below its steady rate",
        edits: [["sender.burstLimit", 5]],
        finding: "receiver-tier:sender.burstLimit (error)",
    },
    {
        rule: rules.platformSectionPresent,
        behaviour: "refuses platform aws without the aws section",
        edits: [["aws", undefined]],
        finding: "receiver-tier:aws (error)",
    },
    {
        rule: rules.platformSectionPresent,
        behaviour: "refuses platform docker with more than one PgBouncer host",
        edits: [["platform", "docker"]],
        finding: "receiver-tier:pgbouncer.hosts (error)",
    },
    {
        rule: rules.caBundleForVerification,
        behaviour: "refuses PgBouncer's server_tls_sslmode verify-full without a CA bundle to verify against",
        edits: [
            ["postgres.caBundle", undefined],
            ["postgres.sslmode", "require"],
        ],
        finding: "receiver-tier:pgbouncer.settings.server_tls_sslmode (error)",
    },
    {
        rule: rules.caBundleForVerification,
        behaviour: "refuses a CA bundle larger than an SSM parameter holds (the global RDS bundle)",
        edits: [["postgres.caBundle", (canaryRaw().postgres as { caBundle: string }).caBundle.repeat(13)]],
        finding: "receiver-tier:postgres.caBundle (error)",
    },
    {
        rule: adoptionIdsMatch,
        behaviour: "refuses a role import id other than the role's name (it would adopt another role)",
        edits: [["adopt", { roles: { receiver_monitor: "webhook_receiver" } }]],
        finding: "receiver-tier:adopt.roles.receiver_monitor (error)",
    },
    {
        rule: adoptionIdsMatch,
        behaviour: "refuses adopting a role the tier does not declare",
        edits: [["adopt", { roles: { postgres: "postgres" } }]],
        finding: "receiver-tier:adopt.roles.postgres (error)",
    },
    {
        rule: adoptionIdsMatch,
        behaviour: "refuses a record import id of another zone or name than the stack's record",
        edits: [["adopt", { publicRecord: "Z0C0FFEE0C0FFEE_api.deltacrown.gg_A" }]],
        finding: "receiver-tier:adopt.publicRecord (error)",
    },
    {
        rule: rules.receiverDomainStated,
        behaviour: "refuses an aws stack without its own receiver.domain (no production name by default)",
        edits: [["receiver.domain", undefined]],
        finding: "receiver-tier:receiver.domain (error)",
    },
    {
        rule: rules.platformSectionPresent,
        behaviour: "refuses client TLS on the local Docker stack, whose containers have no certificate",
        edits: [
            ["platform", "docker"],
            ["pgbouncer.hosts", 1],
        ],
        finding: "receiver-tier:pgbouncer.settings.client_tls_sslmode (error)",
    },
    {
        rule: alarmsReachSomeone,
        behaviour: "refuses an aws stack whose alarm topic has no subscriber, so its alarms would reach no one",
        edits: [["monitoring.alarmSubscribers", []]],
        finding: "receiver-tier:monitoring.alarmSubscribers (error)",
    },
];

const cutoverCases: readonly RuleCase[] = [
    {
        rule: rules.cutoverServerCapacity,
        behaviour:
            "refuses the hand-made pool's 35 + (2 hosts + 1 during a roll) x (20 + 5) = 110 server connections against PostgreSQL's 77 (the canary's full pools during the cutover)",
        edits: [["cutover", SHIPPED_CUTOVER]],
        finding: "receiver-tier:cutover.legacyServerConnections (error)",
    },
    {
        rule: rules.cutoverLegacyClientsAdmitted,
        behaviour: "refuses a cutover that admits no hand-made receivers to the stack's PgBouncer (the NLB's group would refuse them)",
        edits: [["cutover", { ...SHIPPED_CUTOVER, legacyClientSecurityGroupIds: [] }], ...CUTOVER_POOLS],
        finding: "receiver-tier:cutover.legacyClientSecurityGroupIds (error)",
    },
    {
        rule: rules.cutoverLegacyClientsAdmitted,
        behaviour: "refuses a hand-made receivers' network wider than a /16",
        edits: [["cutover", { ...SHIPPED_CUTOVER, legacyClientCidrs: ["10.20.0.0/24", "10.0.0.0/8"] }], ...CUTOVER_POOLS],
        finding: "receiver-tier:cutover.legacyClientCidrs.1 (error)",
    },
    {
        rule: rules.crashWindowWithinRetryAfter,
        behaviour:
            "refuses server_connect_timeout 15 (PgBouncer's default): 15 + server_login_retry 2 + 1 s = 18 s of refusals after a crash outlast Retry-After 5",
        edits: [["pgbouncer.settings.server_connect_timeout", 15]],
        finding: "receiver-tier:pgbouncer.settings.server_login_retry (error)",
    },
    {
        rule: rules.queryTimeoutAfterAnswerDeadline,
        behaviour: "refuses query_timeout 12 when senders wait 20 s: PgBouncer would cancel before the receiver's own deadline of 18 s",
        edits: [
            ["sender.requestTimeoutSeconds", 20],
            ["pgbouncer.settings.query_timeout", 12],
        ],
        finding: "receiver-tier:pgbouncer.settings.query_timeout (error)",
    },
    {
        rule: rules.dnsCacheWithinRecordTtl,
        behaviour:
            "refuses PgBouncer's default dns_max_ttl 15 against a primary record of TTL 5: a moved primary would be followed 15 s late",
        edits: [["pgbouncer.settings.dns_max_ttl", 15]],
        finding: "receiver-tier:pgbouncer.settings.dns_max_ttl (error)",
    },
    {
        rule: rules.deadServerNoticed,
        behaviour: "refuses tcp_user_timeout 0 (PgBouncer's default): a query to a frozen primary waits for the kernel's retransmissions",
        edits: [["pgbouncer.settings.tcp_user_timeout", 0]],
        finding: "receiver-tier:pgbouncer.settings.tcp_user_timeout (error)",
    },
    {
        rule: rules.deadServerNoticed,
        behaviour: "refuses tcp_keepalive 0: an idle connection to a dead primary would be kept for hours",
        edits: [["pgbouncer.settings.tcp_keepalive", 0]],
        finding: "receiver-tier:pgbouncer.settings.tcp_keepalive (error)",
    },
    {
        rule: rules.serverLifetimeBounded,
        behaviour: "refuses the runbook's server_lifetime 3600: a connection opened before a primary change would be used for an hour",
        edits: [["pgbouncer.settings.server_lifetime", 3600]],
        finding: "receiver-tier:pgbouncer.settings.server_lifetime (error)",
    },
    {
        rule: rules.consoleLoginsSeparate,
        behaviour: "refuses an admin login that is also the stats reader's (pgbouncer_stats_a would get PAUSE and RESUME)",
        edits: [["pgbouncer.adminUser", "pgbouncer_stats"]],
        finding: "receiver-tier:pgbouncer.adminUser (error)",
    },
];

const warningCases: readonly RuleCase[] = [
    {
        rule: rules.optionsParameterIgnored,
        behaviour: "warns when ignore_startup_parameters leaves out 'options' (runbook mistake 1)",
        edits: [["pgbouncer.settings.ignore_startup_parameters", ["extra_float_digits"]]],
        finding: "receiver-tier:pgbouncer.settings.ignore_startup_parameters (warning)",
    },
    {
        rule: rules.asyncOnlyGunicornSettings,
        behaviour: "warns that the runbook's worker_connections does nothing for sync workers (runbook mistake 7)",
        edits: [...SYNC_WORKERS, ["receiver.gunicorn.worker_connections", 100]],
        finding: "receiver-tier:receiver.gunicorn.worker_connections (warning)",
    },
    {
        rule: rules.asyncOnlyGunicornSettings,
        behaviour: "warns that the runbook's keepalive does nothing for sync workers (runbook mistake 7)",
        edits: [...SYNC_WORKERS, ["receiver.gunicorn.keepalive", 5]],
        finding: "receiver-tier:receiver.gunicorn.keepalive (warning)",
    },
    {
        rule: rules.asyncOnlyGunicornSettings,
        behaviour: "warns that threads above 1 silently turns sync workers into gthread workers",
        edits: [...SYNC_WORKERS, ["receiver.gunicorn.threads", 4]],
        finding: "receiver-tier:receiver.gunicorn.threads (warning)",
    },
    {
        rule: rules.idlePoolConnections,
        behaviour: "warns that the runbook's per-worker pool of 25 + 10 is mostly idle for a sync worker (runbook mistake 7)",
        edits: [
            ...SYNC_WORKERS,
            ["pgbouncer.settings.max_client_conn", 5000],
            ["receiver.dbPool.max", 25],
            ["receiver.dbPool.min", 5],
            ["receiver.dbPool.maxOverflow", 10],
        ],
        finding: "receiver-tier:receiver.dbPool.max (warning)",
    },
    {
        rule: rules.senderCapacity,
        behaviour: "warns when 2 x 2 x 26 = 104 requests at once leave under 25% headroom over maxInflight 100",
        edits: [
            ["receiver.gunicorn.threads", 26],
            ["receiver.dbPool.max", 26],
            ["receiver.nginx.upstream_queue", 48],
        ],
        finding: "receiver-tier:sender.maxInflight (warning)",
    },
    {
        rule: rules.idleTransactionsBounded,
        behaviour: "warns when neither PostgreSQL nor PgBouncer ends idle-in-transaction sessions (runbook mistake 10)",
        edits: [
            ["receiverRole.idleInTransactionSessionTimeout", "0s"],
            ["pgbouncer.settings.idle_transaction_timeout", 0],
        ],
        finding: "receiver-tier:receiverRole.idleInTransactionSessionTimeout (warning)",
    },
    {
        rule: rules.gunicornOutlivesStatement,
        behaviour: "warns when Gunicorn kills workers before the statement timeout fires",
        edits: [["receiver.gunicorn.timeout", 5]],
        finding: "receiver-tier:receiver.gunicorn.timeout (warning)",
    },
];

/** Schema-parsed only (defaults applied, no rules), so one rule can be run by itself. */
function schemaOnly(edits: readonly Edit[]): SchemaConfig {
    return tierSchema.parse(edited(canaryRaw(), ...edits));
}

describe("the canary stack as the baseline", () => {
    it("passes every rule without a finding, so each case below isolates one rule", () => {
        expect(rules.checkRules(schemaOnly([]))).toEqual([]);
        expect(parseTierConfig(canaryRaw()).warnings).toEqual([]);
    });
});

describe("error rules", () => {
    for (const c of [...errorCases, ...cutoverCases]) {
        it(`${c.rule.name} ${c.behaviour}`, () => {
            expect(problemKeys(refusedProblems(edited(canaryRaw(), ...c.edits)))).toEqual([c.finding]);
            expect(problemKeys(c.rule(schemaOnly(c.edits)))).toEqual([c.finding]);
        });
    }
});

describe("warning rules", () => {
    for (const c of warningCases) {
        it(`${c.rule.name} ${c.behaviour}, without refusing the config`, () => {
            expect(problemKeys(parseTierConfig(edited(canaryRaw(), ...c.edits)).warnings)).toEqual([c.finding]);
            expect(problemKeys(c.rule(schemaOnly(c.edits)))).toEqual([c.finding]);
        });
    }
});

it("has a case above for every rule that checkRules runs", () => {
    const covered = new Set([...errorCases, ...cutoverCases, ...warningCases].map((c) => c.rule));
    const untested = rules.RULES.filter((rule) => !covered.has(rule)).map((rule) => rule.name);
    expect(untested).toEqual([]);
});

describe("rule boundaries", () => {
    const accepted = (...edits: Edit[]) => parseTierConfig(edited(canaryRaw(), ...edits)).config;
    const refusedAt = (...edits: Edit[]) => problemKeys(refusedProblems(edited(canaryRaw(), ...edits)));

    it("wants proxy_read_timeout above the app's slowest answer (pool wait + PgBouncer wait + statement), in the statement's unit", () => {
        // canary: dbPool.timeout 3 + query_wait_timeout 3 + 5s = 11 s.
        expect(refusedAt(["receiver.nginx.proxy_read_timeout", 11])).toEqual(["receiver-tier:receiver.nginx.proxy_read_timeout (error)"]);
        expect(() => accepted(["receiver.nginx.proxy_read_timeout", 12])).not.toThrow();
        const noQueryTimeout: Edit = ["pgbouncer.settings.query_timeout", 0];
        expect(refusedAt(["receiver.nginx.proxy_read_timeout", 12], ["receiverRole.statementTimeout", "6000ms"], noQueryTimeout)).toEqual([
            "receiver-tier:receiver.nginx.proxy_read_timeout (error)",
        ]);
    });

    it("accepts an upstream_queue that admits exactly twice a host's share of the senders' inflight (canary: 64 + 36 = 100)", () => {
        expect(() => accepted(["receiver.nginx.upstream_queue", 36])).not.toThrow();
    });

    it("accepts a keepalive_timeout one second above the ALB's", () => {
        expect(() => accepted(["receiver.nginx.keepalive_timeout", ALB_IDLE_TIMEOUT_SECONDS + 1])).not.toThrow();
    });

    it("refuses reserve_pool_timeout equal to query_wait_timeout: the reserve needs strictly less", () => {
        expect(refusedAt(["pgbouncer.settings.reserve_pool_timeout", 3])).toEqual([
            "receiver-tier:pgbouncer.settings.reserve_pool_timeout (error)",
        ]);
        expect(accepted(["pgbouncer.settings.reserve_pool_timeout", 2.5]).pgbouncer.settings.reserve_pool_timeout).toBe(2.5);
    });

    it("refuses reserve_pool_timeout 0, which disables the reserve in PgBouncer (pgbouncer(5): '0 disables')", () => {
        expect(refusedAt(["pgbouncer.settings.reserve_pool_timeout", 0])).toEqual([
            "receiver-tier:pgbouncer.settings.reserve_pool_timeout (error)",
        ]);
        expect(refusedAt(["pgbouncer.settings.reserve_pool_timeout", 0], ["pgbouncer.settings.query_wait_timeout", 0])).toEqual([
            "receiver-tier:pgbouncer.settings.reserve_pool_timeout (error)",
        ]);
        expect(() => accepted(["pgbouncer.settings.reserve_pool_timeout", 0], ["pgbouncer.settings.reserve_pool_size", 0])).not.toThrow();
    });

    it("does not care about reserve_pool_timeout when there is no reserve or no wait limit", () => {
        expect(() => accepted(["pgbouncer.settings.reserve_pool_timeout", 5], ["pgbouncer.settings.reserve_pool_size", 0])).not.toThrow();
        expect(() => accepted(["pgbouncer.settings.reserve_pool_timeout", 5], ["pgbouncer.settings.query_wait_timeout", 0])).not.toThrow();
    });

    it(`accepts query_timeout 0 or at least statement timeout + ${rules.QUERY_TIMEOUT_MARGIN_SECONDS}s, and refuses anything in between`, () => {
        expect(rules.QUERY_TIMEOUT_MARGIN_SECONDS).toBeGreaterThan(0);
        const floor = 5 + rules.QUERY_TIMEOUT_MARGIN_SECONDS;
        expect(() => accepted(["pgbouncer.settings.query_timeout", 0])).not.toThrow();
        expect(() => accepted(["pgbouncer.settings.query_timeout", floor])).not.toThrow();
        expect(refusedAt(["pgbouncer.settings.query_timeout", floor - 1])).toEqual([
            "receiver-tier:pgbouncer.settings.query_timeout (error)",
        ]);
    });

    it("measures the query_timeout margin from the configured statement timeout, in its own unit", () => {
        // 20000ms rather than the 1min this once used: a statement of a minute outlasts the ALB (proxyChainCoherent).
        const statement: Edit = ["receiverRole.statementTimeout", "20000ms"];
        const gunicorn: Edit = ["receiver.gunicorn.timeout", 90];
        // The answer deadline (25 - 2 s) stays below both query_timeouts: only the margin rule is under test.
        const sender: Edit = ["sender.requestTimeoutSeconds", 25];
        expect(
            refusedAt(statement, gunicorn, sender, ["pgbouncer.settings.query_timeout", 20 + rules.QUERY_TIMEOUT_MARGIN_SECONDS - 1]),
        ).toEqual(["receiver-tier:pgbouncer.settings.query_timeout (error)"]);
        expect(() =>
            accepted(statement, gunicorn, sender, ["pgbouncer.settings.query_timeout", 20 + rules.QUERY_TIMEOUT_MARGIN_SECONDS]),
        ).not.toThrow();
    });

    it("accepts client connections exactly at max_client_conn - clientHeadroom", () => {
        expect(() => accepted(["pgbouncer.settings.max_client_conn", 142])).not.toThrow();
        expect(refusedAt(["pgbouncer.settings.max_client_conn", 142], ["pgbouncer.clientHeadroom", 11])).toEqual([
            "receiver-tier:pgbouncer.settings.max_client_conn (error)",
        ]);
    });

    it("counts maxOverflow, the health console connection and every receiver instance towards max_client_conn", () => {
        // 7 receivers x 2 workers x (32 + 1 + 1 console) = 476 <= 500 - 10; 8 receivers make 544.
        const overflow: Edit = ["receiver.dbPool.maxOverflow", 1];
        expect(() => accepted(overflow, ["receiver.instances", 7])).not.toThrow();
        expect(refusedAt(overflow, ["receiver.instances", 8])).toEqual(["receiver-tier:pgbouncer.settings.max_client_conn (error)"]);
        // 122 sync receivers x 2 x (1 + 1 console) = 488; 123 make 492.
        expect(() => accepted(...SYNC_WORKERS, ["receiver.instances", 122])).not.toThrow();
        expect(refusedAt(...SYNC_WORKERS, ["receiver.instances", 123])).toEqual([
            "receiver-tier:pgbouncer.settings.max_client_conn (error)",
        ]);
    });

    it("accepts server connections exactly at the PostgreSQL budget, counting one extra host during a roll, and refuses one more", () => {
        // (2 hosts + 1) x (20 + 5) = 75 <= 77; 3 x (21 + 5) = 78.
        expect(() => accepted(["pgbouncer.settings.default_pool_size", 20])).not.toThrow();
        expect(refusedAt(["pgbouncer.settings.default_pool_size", 21])).toEqual([
            "receiver-tier:pgbouncer.settings.default_pool_size (error)",
        ]);
        // Budget 100 - 3 - 22 = 75 holds the overlap; 100 - 3 - 23 = 74 does not.
        expect(() => accepted(["postgres.reservedForOtherClients", 22])).not.toThrow();
        expect(refusedAt(["postgres.reservedForOtherClients", 23])).toEqual(["receiver-tier:pgbouncer.settings.default_pool_size (error)"]);
    });

    it("holds PostgreSQL's budget in every documented cutover step, and refuses one server connection more in any of them", () => {
        const oneMore: Record<1 | 2 | 3, { edit: Edit; key: string }> = {
            1: { edit: ["cutover.legacyServerConnections", 36], key: "cutover.legacyServerConnections" },
            2: { edit: ["cutover.legacyServerConnections", 36], key: "cutover.legacyServerConnections" },
            3: { edit: ["pgbouncer.settings.reserve_pool_size", 6], key: "pgbouncer.settings.default_pool_size" },
        };
        for (const step of [1, 2, 3] as const) {
            expect(parseTierConfig(canaryStepRaw(step)).warnings).toEqual([]);
            expect(problemKeys(refusedProblems(canaryStepRaw(step, oneMore[step].edit)))).toEqual([
                `receiver-tier:${oneMore[step].key} (error)`,
            ]);
        }
        expect(Object.keys(CUTOVER_STEP_EDITS)).toEqual(["1", "2", "3"]);
        expect(() => parseTierConfig(edited(shippedCanaryRaw(), ["cutover.legacyServerConnections", 36]))).toThrow(
            "the hand-made pool's 36 + (pgbouncer.hosts 2 + 1 during a roll) x (default_pool_size 10 + reserve_pool_size 4) = 78 server connections exceeds postgres.maxConnections 100 - superuserReservedConnections 3 - reservedForOtherClients 20 = 77",
        );
    });

    it("names the roll's extra host in the arithmetic, and counts none for the single local container", () => {
        expect(() => accepted(["pgbouncer.settings.default_pool_size", 21])).toThrow(
            "(2 hosts + 1 during a roll) x (default_pool_size 21 + reserve_pool_size 5) = 78 server connections exceeds",
        );
        const local = {
            ...canaryRaw(),
            platform: "docker",
            aws: undefined,
            pgbouncer: { hosts: 1, settings: { default_pool_size: 67, client_tls_sslmode: "disable" } },
        };
        // docker: 1 x (67 + 10) = 77, exactly the budget.
        expect(() => parseTierConfig(local)).not.toThrow();
    });

    it("needs only one of the two idle-in-transaction limits", () => {
        expect(parseTierConfig(edited(canaryRaw(), ["receiverRole.idleInTransactionSessionTimeout", "0s"])).warnings).toEqual([]);
        expect(parseTierConfig(edited(canaryRaw(), ["pgbouncer.settings.idle_transaction_timeout", 0])).warnings).toEqual([]);
    });

    it("does not flag worker_connections for gthread workers, which use it", () => {
        const loaded = parseTierConfig(
            edited(canaryRaw(), ["receiver.gunicorn.worker_class", "gthread"], ["receiver.gunicorn.worker_connections", 100]),
        );
        expect(loaded.warnings).toEqual([]);
    });

    it("refuses worker classes the hosts do not install (gevent, eventlet)", () => {
        expect(() => parseTierConfig(edited(canaryRaw(), ["receiver.gunicorn.worker_class", "gevent"]))).toThrow(
            /receiver\.gunicorn\.worker_class/,
        );
    });
});

describe("sender capacity: receivers x workers x threads against the sender contract", () => {
    const messages = (...edits: Edit[]) => rules.senderCapacity(schemaOnly(edits)).map((p) => `${p.severity}: ${p.path}: ${p.message}`);

    it("errs with the arithmetic when the receivers hold fewer requests than the senders keep in flight", () => {
        expect(
            messages(["receiver.gunicorn.worker_class", "sync"], ["receiver.gunicorn.threads", undefined], ["receiver.dbPool.max", 1]),
        ).toEqual([
            expect.stringMatching(
                /^error: receiver-tier:sender\.maxInflight: 2 receivers x 2 workers x min\(threads 1 \(sync\), dbPool\.max 1 \+ maxOverflow 0\) = 4 concurrent requests cannot absorb sender\.maxInflight 100 requests in flight: /,
            ),
        ]);
    });

    it("errs when maxQps at the measured service time needs more requests in service than the receivers hold", () => {
        // 1000/s x 150 ms = 150 requests in service (Little's law) > 2 x 2 x 32 = 128.
        expect(messages(["sender.maxQps", 1000], ["sender.burstLimit", 1000], ["receiver.serviceTimeMs", 150])).toEqual([
            expect.stringMatching(
                /^error: receiver-tier:sender\.maxQps: 2 receivers x 2 workers x min\(threads 32, dbPool\.max 32 \+ maxOverflow 0\) = 128 concurrent requests cannot absorb sender\.maxQps 1000\/s x receiver\.serviceTimeMs 150 ms = 150 requests in service/,
            ),
        ]);
    });

    it("counts a thread only while it can hold a pooled connection: 32 threads with dbPool.max 20 serve 20", () => {
        expect(messages(["receiver.dbPool.max", 20])).toEqual([
            expect.stringContaining(
                "min(threads 32, dbPool.max 20 + maxOverflow 0) = 80 concurrent requests cannot absorb sender.maxInflight 100",
            ),
        ]);
    });

    it("warns with the arithmetic when the headroom is under 25%", () => {
        expect(messages(["receiver.gunicorn.threads", 31], ["receiver.dbPool.max", 31])).toEqual([
            "warning: receiver-tier:sender.maxInflight: thin headroom: 2 receivers x 2 workers x min(threads 31, dbPool.max 31 + maxOverflow 0) = 124 concurrent requests is below sender.maxInflight 100 requests in flight x 1.25 = 125; a slow database or one lost receiver queues requests",
        ]);
    });

    it("passes canary's 2 x 2 x 32 = 128 requests at once for 100 in flight and 10/s x 130 ms = 1.3 in service", () => {
        const cfg = schemaOnly([]);
        expect(receiverRequestCapacity(cfg)).toBe(128);
        expect(rules.senderCapacity(cfg)).toEqual([]);
        expect(parseTierConfig(canaryRaw()).warnings).toEqual([]);
    });

    it("leaves the local docker stack alone: no sender works to the contract there", () => {
        expect(rules.senderCapacity(schemaOnly([["platform", "docker"]]))).toEqual([]);
    });
});

describe("the reference receiver on a cloud stack", () => {
    const findings = (...edits: Edit[]) => problemKeys(rules.referenceAppChosen(schemaOnly(edits)));

    it("is refused unless chosen, with a message naming both ways out", () => {
        const [problem] = rules.referenceAppChosen(schemaOnly([["receiver.app.reference", false]]));
        expect(problem?.path).toBe("receiver-tier:receiver.app");
        expect(problem?.message).toMatch(/receiver\.app\.artifactUrl/);
        expect(problem?.message).toMatch(/receiver\.app\.reference: true/);
    });

    it("is accepted when the stack names an artifact instead, and refused when it says both", () => {
        const artifact: Edit = ["receiver.app.artifactUrl", "s3://bucket/app.tar.gz"];
        expect(findings(artifact, ["receiver.app.reference", undefined])).toEqual([]);
        expect(findings(artifact)).toEqual(["receiver-tier:receiver.app.reference (error)"]);
    });

    it("is what the local docker stack runs without choosing it", () => {
        expect(findings(["platform", "docker"], ["receiver.app.reference", undefined])).toEqual([]);
    });
});

describe("whom the alarms reach", () => {
    const none: Edit = ["monitoring.alarmSubscribers", []];
    const findings = (...edits: Edit[]) => problemKeys(alarmsReachSomeone(schemaOnly(edits)));

    it("names every way out in its message", () => {
        const [problem] = alarmsReachSomeone(schemaOnly([none]));
        expect(problem?.message).toMatch(/monitoring\.alarmTopicArn/);
        expect(problem?.message).toMatch(/monitoring\.alarmsUnsubscribedBecause/);
    });

    it("accepts an alarmEmail, an existing topic, or a stated reason instead of a subscriber", () => {
        expect(findings(none, ["monitoring.alarmEmail", "ops@example.com"])).toEqual([]);
        expect(findings(none, ["monitoring.alarmTopicArn", "arn:aws:sns:us-east-1:111111111111:ops"])).toEqual([]);
        expect(findings(none, ["monitoring.alarmsUnsubscribedBecause", "a throwaway load-test stack nobody watches"])).toEqual([]);
        expect(findings(none, ["platform", "docker"], ["pgbouncer.hosts", 1])).toEqual([]);
    });

    it("refuses a stated reason beside a subscriber, and a subscriber listed twice", () => {
        expect(findings(["monitoring.alarmsUnsubscribedBecause", "nobody watches this stack"])).toEqual([
            "receiver-tier:monitoring.alarmsUnsubscribedBecause (error)",
        ]);
        const twice: Edit = [
            "monitoring.alarmSubscribers",
            [
                { protocol: "email", endpoint: "ops@example.com" },
                { protocol: "https", endpoint: "https://pager.example.com/sns" },
                { protocol: "email", endpoint: "OPS@example.com" },
            ],
        ];
        expect(findings(twice)).toEqual(["receiver-tier:monitoring.alarmSubscribers.2 (error)"]);
        expect(
            findings(
                ["monitoring.alarmEmail", "ops@example.com"],
                ["monitoring.alarmSubscribers", [{ protocol: "email", endpoint: "ops@example.com" }]],
            ),
        ).toEqual(["receiver-tier:monitoring.alarmSubscribers.0 (error)"]);
    });

    it("refuses an endpoint that does not fit its protocol, by key", () => {
        expect(
            problemKeys(
                refusedProblems(
                    edited(canaryRaw(), ["monitoring.alarmSubscribers", [{ protocol: "https", endpoint: "http://pager.example.com" }]]),
                ),
            ),
        ).toEqual(["receiver-tier:monitoring.alarmSubscribers[0].endpoint (error)"]);
    });
});
