import { z } from "zod";
import { PGBOUNCER_PORT, POSTGRES_PORT, RECEIVER_ROLE_NAME, RUNBOOK_STATEMENT_TIMEOUT, TIER_POOL_MODE } from "./defaults";
import { isDuration } from "./duration";
import { LOGIN_SLOTS } from "./loginSlots";

/**
 * Time in service per webhook at the sender contract's full inflight, as `npm run bench -- --mode http`
 * measured it for gthread workers on 2 shared vCPUs (BENCHMARKS.md): pessimistic for a dedicated receiver.
 */
export const DEFAULT_SERVICE_TIME_MS = 130;

// Defaults are the runbook's values wherever they are coherent; README "Deviations" explains the rest.

const count = (min: number) => z.int().min(min);
const seconds = z.number().min(0);
const flag = z.union([z.literal(0), z.literal(1)]);
const duration = z.string().refine(isDuration, "must be a PostgreSQL duration such as '5s', '500ms' or '1min'");
const identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case SQL identifier ([a-z_][a-z0-9_]*)");
// Room for the "_a"/"_b" suffix of the two alternating logins within PostgreSQL's 63 bytes.
const loginBase = z.string().regex(/^[a-z_][a-z0-9_]{0,60}$/, "must be a lower-case SQL identifier of at most 61 characters");
/** libpq sslmode values, weakest first. */
export const SERVER_SSLMODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type Sslmode = (typeof SERVER_SSLMODES)[number];
const pemCertificates = z
    .string()
    .regex(
        /^\s*(-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\s*)+$/,
        "must be PEM certificates (-----BEGIN CERTIFICATE-----)",
    );
const hostName = z.string().regex(/^[A-Za-z0-9.-]+$/, "must be a host name or IP address");

/** The [pgbouncer] section, under PgBouncer's own key names (docs/config.md). */
export const pgbouncerSettingsSchema = z.strictObject({
    pool_mode: z.enum(["session", "transaction", "statement"]).default(TIER_POOL_MODE),
    max_client_conn: count(1).default(500),
    default_pool_size: count(1).default(25),
    min_pool_size: count(0).default(5),
    reserve_pool_size: count(0).default(10),
    reserve_pool_timeout: seconds.default(1),
    auth_type: z.enum(["md5", "scram-sha-256"]).default("scram-sha-256"),
    server_idle_timeout: seconds.default(30),
    // Bounds how long a connection opened before a primary change lives (rule serverLifetimeBounded).
    server_lifetime: seconds.default(300),
    // A black-holed connect (a primary gone mid-switchover) holds a pool this long: rule crashWindowWithinRetryAfter.
    server_connect_timeout: seconds.default(2),
    server_login_retry: seconds.default(2),
    // verify-ca/verify-full check PostgreSQL's certificate against postgres.caBundle (server_tls_ca_file).
    server_tls_sslmode: z.enum(SERVER_SSLMODES).default("verify-full"),
    // Receivers -> PgBouncer. With anything but disable PgBouncer serves the stack's certificate for
    // dnsName and receivers connect with sslmode=verify-full. verify-* here would demand client certificates.
    client_tls_sslmode: z.enum(["disable", "allow", "prefer", "require"]).default("require"),
    query_timeout: seconds.default(10),
    query_wait_timeout: seconds.default(3),
    client_idle_timeout: seconds.default(0),
    client_login_timeout: seconds.default(60),
    // Below query_timeout (rule idleTransactionBeforeQueryTimeout), or query_timeout ends the client first.
    idle_transaction_timeout: seconds.default(8),
    ignore_startup_parameters: z.array(z.string().regex(/^[a-z_]+$/)).default(["extra_float_digits", "options"]),
    tcp_keepalive: flag.default(1),
    // A dead or frozen PostgreSQL on an open server connection: noticed by keepalives when idle, by
    // tcp_user_timeout (ms) while a query waits for its answer (rule deadServerNoticed).
    tcp_keepidle: count(1).default(5),
    tcp_keepintvl: count(1).default(2),
    tcp_keepcnt: count(1).default(3),
    tcp_user_timeout: count(0).default(5000),
    // Not longer than postgres.hostRecordTtlSeconds: a moved primary record is followed (rule dnsCacheWithinRecordTtl).
    dns_max_ttl: count(0).default(5),
    log_connections: flag.default(1),
    log_disconnections: flag.default(1),
    log_pooler_errors: flag.default(1),
    log_stats: flag.default(1),
    stats_period: count(1).default(60),
});

export const postgresSchema = z.strictObject({
    host: hostName.default("postgres-primary.internal"),
    port: count(1).max(65535).default(POSTGRES_PORT),
    database: identifier.default("deltacrown"),
    adminUser: identifier.default("postgres"),
    sslmode: z.enum(["disable", "prefer", "require", "verify-ca", "verify-full"]).default("verify-full"),
    /** The CA bundle PostgreSQL's certificate chains to (e.g. the RDS regional bundle), PEM; not secret. */
    caBundle: pemCertificates.optional(),
    maxConnections: count(1).default(100),
    superuserReservedConnections: count(0).default(3),
    reservedForOtherClients: count(0).default(20),
    /**
     * What keeps an acknowledged commit through a primary crash (verify and preflight report it): nothing, a
     * self-managed synchronous standby, or a managed Multi-AZ database that replicates synchronously itself.
     */
    highAvailability: z.enum(["none", "synchronous-standby", "rds-multi-az", "rds-multi-az-cluster", "aurora"]).default("none"),
    /** TTL of the DNS record of `host`, which a failover moves (RDS, or an operator's record): PgBouncer caches no longer. */
    hostRecordTtlSeconds: count(0).default(5),
});

/** Which of the two alternating logins (name_a, name_b) clients use, and whether the other one still logs in. */
export const loginRotationSchema = z.strictObject({
    active: z.enum(LOGIN_SLOTS).default("a"),
    standby: z.enum(["open", "closed"]).default("closed"),
});

// Room for "_owner", the NOLOGIN role owning the receivers' schema and tables (model/roles.ts).
const receiverBase = z.string().regex(/^[a-z_][a-z0-9_]{0,56}$/, "must be a lower-case SQL identifier of at most 57 characters");

export const receiverRoleSchema = z.strictObject({
    name: receiverBase.default(RECEIVER_ROLE_NAME),
    logins: loginRotationSchema.prefault({}),
    statementTimeout: duration.default(RUNBOOK_STATEMENT_TIMEOUT),
    idleInTransactionSessionTimeout: duration.default("10s"),
});

export const pgbouncerSchema = z.strictObject({
    hosts: count(1).default(2),
    port: count(1).max(65535).default(PGBOUNCER_PORT),
    listenAddr: z.string().default("0.0.0.0"),
    databaseAlias: identifier.default("deltacrown_receiver"),
    dnsName: hostName.default("pgbouncer.internal"),
    statsUser: loginBase.default("pgbouncer_stats"),
    statsLogins: loginRotationSchema.prefault({}),
    /** The console's admin logins (`admin_users`: PAUSE, RESUME, RELOAD for `npm run switchover`), `<adminUser>_a`/`_b`; operators only. */
    adminUser: loginBase.default("pgbouncer_admin"),
    adminLogins: loginRotationSchema.prefault({}),
    clientHeadroom: count(0).default(10),
    instanceType: z.string().default("t3.small"),
    settings: pgbouncerSettingsSchema.prefault({}),
});

/** Gunicorn settings, under Gunicorn's own names. */
export const gunicornSchema = z.strictObject({
    workers: count(1).default(2),
    // The hosts install Debian's gunicorn and psycopg2 only: no gevent/eventlet, whose green
    // threads psycopg2 would block anyway.
    worker_class: z.enum(["sync", "gthread"]).default("sync"),
    threads: count(1).optional(),
    worker_connections: count(1).optional(),
    keepalive: count(0).optional(),
    timeout: count(1).default(30),
    graceful_timeout: count(1).default(30),
    max_requests: count(0).default(1000),
    max_requests_jitter: count(0).default(50),
    accesslog: z.string().default("/var/log/webhook-receiver/access.log"),
    errorlog: z.string().default("/var/log/webhook-receiver/error.log"),
    loglevel: z.enum(["debug", "info", "warning", "error", "critical"]).default("info"),
});

/**
 * The buffering proxy (Debian's nginx) in front of Gunicorn on every receiver host, under nginx's own
 * directive names (seconds as integers). It reads whole requests before Gunicorn sees them.
 */
export const nginxSchema = z.strictObject({
    /** The port nginx listens on: what the ALB's target group and health check reach. Gunicorn binds 127.0.0.1:receiver.port. */
    port: count(1).max(65535).default(8080),
    client_header_timeout: count(1).default(10),
    client_body_timeout: count(1).default(10),
    send_timeout: count(1).default(10),
    /** Above the ALB's idle timeout, so the ALB, never nginx, closes an idle connection first. */
    keepalive_timeout: count(1).default(75),
    proxy_connect_timeout: count(1).default(2),
    /** Above the app's slowest answer (pool wait + PgBouncer wait + statement timeout), below the ALB's idle timeout. */
    proxy_read_timeout: count(1).default(40),
    /**
     * Requests per host nginx lets wait inside Gunicorn beyond those its threads serve (upstream max_conns =
     * workers x threads + this); beyond it, 503 + Retry-After at once.
     */
    upstream_queue: count(0).default(40),
    worker_connections: count(64).default(4096),
});

const headerName = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "must be an HTTP header name");

/** How senders deliver webhooks to the receiver app: what it authenticates, deduplicates and accepts. */
export const webhooksSchema = z.strictObject({
    deliveryIdHeader: headerName.default("X-Webhook-Delivery-Id"),
    signatureHeader: headerName.default("X-Webhook-Signature"),
    timestampHeader: headerName.default("X-Webhook-Timestamp"),
    /** A signed request older or newer than this is refused (401): a captured request cannot be replayed later. */
    replayWindowSeconds: count(1).default(300),
    maxBodyBytes: count(1).default(1024 * 1024),
    /** Retry-After of a 503 (database timeout, pool wait, connection error). */
    retryAfterSeconds: count(1).default(5),
});

/** The application's own connection pool, one per Gunicorn worker. */
export const dbPoolSchema = z.strictObject({
    max: count(1).default(1),
    min: count(0).default(1),
    recycle: count(0).default(30),
    timeout: count(1).default(3),
    maxOverflow: count(0).default(0),
    prePing: z.boolean().default(true),
});

export const receiverSchema = z.strictObject({
    instances: count(1).default(2),
    port: count(1).max(65535).default(8000),
    healthPath: z
        .string()
        .regex(/^\/[A-Za-z0-9/_-]*$/, "must be an absolute URL path")
        .default("/webhooks/health"),
    /** The public name of this stack's receivers; required on aws (no default: two stacks must never share one). */
    domain: hostName.optional(),
    instanceType: z.string().default("t3.small"),
    app: z
        .strictObject({
            wsgi: z
                .string()
                .regex(/^[A-Za-z_][\w.]*:[A-Za-z_]\w*$/, "must be module:callable")
                .default("webhook_receiver:application"),
            artifactUrl: z
                .string()
                .regex(/^s3:\/\/.+\.tar\.gz$/, "must be an s3:// URL of a .tar.gz")
                .optional(),
            // Choosing files/receiver/webhook_receiver.py on purpose, where no artifact is named (rule referenceAppChosen).
            reference: z.boolean().optional(),
        })
        .prefault({}),
    /** Milliseconds one webhook occupies a worker thread (read, verify, INSERT, COMMIT); `npm run bench -- --mode http` measures it. */
    serviceTimeMs: z.number().positive().default(DEFAULT_SERVICE_TIME_MS),
    webhooks: webhooksSchema.prefault({}),
    gunicorn: gunicornSchema.prefault({}),
    nginx: nginxSchema.prefault({}),
    dbPool: dbPoolSchema.prefault({}),
});

export const senderSchema = z.strictObject({
    maxQps: count(1).default(10),
    maxInflight: count(1).default(100),
    burstLimit: count(1).default(20),
    /** Seconds a sender waits for an answer before it gives up and retries (WEBHOOK_REQUEST_TIMEOUT_SECONDS); the receiver answers inside it. */
    requestTimeoutSeconds: count(1).default(10),
    circuitBreaker: z
        .strictObject({
            failureThreshold: count(1).default(5),
            timeoutSeconds: count(1).default(30),
            halfOpenProbes: count(1).default(1),
        })
        .prefault({}),
});

export const monitorSchema = z.strictObject({
    role: identifier.default("receiver_monitor"),
    intervalMinutes: count(1).default(5),
    minQueryAgeSeconds: count(1).default(10),
});

/**
 * One SNS subscription to the alarm topic, with the endpoint SNS takes for its protocol. An e-mail or
 * https subscription waits for its owner to confirm it (README "Monitoring").
 */
export const alarmSubscriberSchema = z.discriminatedUnion("protocol", [
    z.strictObject({ protocol: z.enum(["email", "email-json"]), endpoint: z.email("must be an e-mail address") }),
    z.strictObject({ protocol: z.literal("https"), endpoint: z.url({ protocol: /^https$/, error: "must be an https:// URL" }) }),
    z.strictObject({ protocol: z.literal("sqs"), endpoint: z.string().regex(/^arn:aws[\w-]*:sqs:/, "must be an SQS queue ARN") }),
    z.strictObject({
        protocol: z.literal("lambda"),
        endpoint: z.string().regex(/^arn:aws[\w-]*:lambda:/, "must be a Lambda function ARN"),
    }),
    z.strictObject({
        protocol: z.literal("sms"),
        endpoint: z.string().regex(/^\+[1-9]\d{6,14}$/, "must be a phone number in E.164 form (+...)"),
    }),
]);
export type AlarmSubscriber = z.infer<typeof alarmSubscriberSchema>;

/** CloudWatch metrics, alarms, the dashboard and log retention (AWS stacks; the local stack ignores it). */
export const monitoringSchema = z.strictObject({
    // Unset: ReceiverTier/<stack>. The hosts may publish to this namespace only.
    namespace: z
        .string()
        .regex(/^[A-Za-z0-9._/#:-]{1,255}$/, "must be a CloudWatch namespace")
        .refine((ns) => !ns.startsWith("AWS/"), "AWS/ is reserved for AWS services")
        .optional(),
    alarmEmail: z.email("must be an e-mail address").optional(),
    alarmTopicArn: z
        .string()
        .regex(/^arn:aws[\w-]*:sns:/, "must be an SNS topic ARN")
        .optional(),
    waitingMinutes: count(1).default(3),
    max5xxPercent: z.number().gt(0).max(100).default(1),
    logRetentionDays: count(1).default(14),
    operatorCidrs: z.array(z.cidrv4("must be an IPv4 CIDR such as 10.1.0.0/24")).default([]),
    operatorSecurityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/, "must be a security group id (sg-...)")).default([]),
    /** Who the alarm topic notifies, besides alarmEmail: one SNS subscription each (rule alarmsReachSomeone). */
    alarmSubscribers: z.array(alarmSubscriberSchema).default([]),
    /** Why this stack's alarms notify no one: the explicit opt-out of rule alarmsReachSomeone. */
    alarmsUnsubscribedBecause: z.string().trim().min(10, "say why no one is to be notified (at least 10 characters)").optional(),
});

/** Seconds a new host's readiness loop tries before it abandons its launch (README "Config reference"). */
export const DEFAULT_READINESS_DEADLINE_SECONDS = 600;

/** How the auto scaling groups admit a new host: its own readiness deadline inside the launch lifecycle hook. */
export const rolloutSchema = z.strictObject({
    readinessDeadlineSeconds: count(1).default(DEFAULT_READINESS_DEADLINE_SECONDS),
});

export const awsSchema = z.strictObject({
    vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, "must be a VPC id (vpc-...)"),
    privateSubnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/)).min(1),
    publicSubnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/)).min(2, "an internet-facing ALB needs two subnets"),
    postgresSecurityGroupId: z.string().regex(/^sg-[0-9a-f]+$/, "must be a security group id (sg-...)"),
    certificateArn: z.string().regex(/^arn:aws[\w-]*:acm:/, "must be an ACM certificate ARN"),
    publicZoneId: z.string().min(1),
    privateZoneId: z.string().min(1),
    amiSsmParameter: z.string().default("/aws/service/debian/release/12/latest/amd64"),
});

/**
 * What a stack takes over instead of creating (README "First deploy into an existing environment"):
 * per resource, Pulumi's import id, used as the resource's `import` option.
 */
export const adoptSchema = z.strictObject({
    /** Tier role name -> its import id (the role's name). */
    roles: z.record(z.string(), z.string().min(1)).default({}),
    /** The existing record of receiver.domain: <publicZoneId>_<domain>_A. */
    publicRecord: z.string().min(1).optional(),
    /** The existing record of pgbouncer.dnsName: <privateZoneId>_<dnsName>_A. */
    privateRecord: z.string().min(1).optional(),
    /**
     * Gone: the engine imports by calling a dynamic provider's read without its code, which fails every
     * preview; the stack's `ALTER DATABASE ... SET` is idempotent, so an existing setting needs no adoption.
     */
    databaseSetting: z
        .undefined({
            error: "is not needed (and would break pulumi preview): the stack sets the database parameter idempotently; remove it",
        })
        .optional(),
    /** Per record, whether creating it may overwrite a record of the same name (Route 53 UPSERT). Never by default. */
    overwriteRecords: z.strictObject({ public: z.boolean().default(false), private: z.boolean().default(false) }).prefault({}),
});

/**
 * The cutover from the hand-made canary (README "First deploy into an existing environment"): present while
 * the runbook's `webhook_receiver` login still serves hand-made receivers; removing it is the procedure's last step.
 */
export const cutoverSchema = z.strictObject({
    /** Server connections the hand-made PgBouncer may hold: its default_pool_size + reserve_pool_size (runbook 25 + 10). */
    legacyServerConnections: count(0),
    /** The hand-made receivers, admitted to the stack's PgBouncer once pgbouncer.dnsName points at it. */
    legacyClientSecurityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/, "must be a security group id (sg-...)")).default([]),
    legacyClientCidrs: z.array(z.cidrv4("must be an IPv4 CIDR such as 10.1.0.0/24")).default([]),
});

export const dockerSchema = z.strictObject({
    postgresImage: z.string().default("postgres:15"),
    postgresHostPort: count(1).max(65535).default(15432),
    pgbouncerHostPort: count(1).max(65535).default(6432),
    receiverHostPort: count(1).max(65535).default(8000),
});

export const tierSchema = z.strictObject({
    platform: z.enum(["aws", "docker"]),
    postgres: postgresSchema.prefault({}),
    receiverRole: receiverRoleSchema.prefault({}),
    pgbouncer: pgbouncerSchema.prefault({}),
    receiver: receiverSchema.prefault({}),
    sender: senderSchema.prefault({}),
    monitor: monitorSchema.prefault({}),
    monitoring: monitoringSchema.prefault({}),
    rollout: rolloutSchema.prefault({}),
    aws: awsSchema.optional(),
    docker: dockerSchema.prefault({}),
    adopt: adoptSchema.prefault({}),
    cutover: cutoverSchema.optional(),
});

/**
 * What the schema makes of a stack's config: every key valid and defaulted, before the cross-field
 * rules, so `aws` may still be missing on platform aws. The rules take this; everything after them
 * takes TierConfig.
 */
export type SchemaConfig = z.infer<typeof tierSchema>;
export type PgbouncerSection = SchemaConfig["pgbouncer"];
export type PgbouncerSettings = PgbouncerSection["settings"];
export type ReceiverSection = SchemaConfig["receiver"];
export type NginxSettings = ReceiverSection["nginx"];
export type AwsSettings = NonNullable<SchemaConfig["aws"]>;
export type DockerSettings = SchemaConfig["docker"];
export type Adoption = SchemaConfig["adopt"];
export type Cutover = NonNullable<SchemaConfig["cutover"]>;

type PlatformIndependent = Omit<SchemaConfig, "platform" | "aws">;
/** An aws stack: its network, zones and certificate are there. */
export type AwsTierConfig = PlatformIndependent & { platform: "aws"; aws: AwsSettings };
/** The local docker stack: an aws section, if any, is not used. */
export type DockerTierConfig = PlatformIndependent & { platform: "docker"; aws?: AwsSettings };
/**
 * The validated, defaulted configuration of one stack (secrets excluded), after the cross-field
 * rules: `cfg.platform === "aws"` narrows `cfg.aws` to AwsSettings.
 */
export type TierConfig = AwsTierConfig | DockerTierConfig;

/** True when the platform's own section is there (rule platformSectionPresent): then the config is a TierConfig. */
export function hasPlatformSection(cfg: SchemaConfig): cfg is TierConfig {
    return cfg.platform !== "aws" || cfg.aws !== undefined;
}

/** Secret config keys: read as Pulumi secrets, never part of TierConfig. */
export const SECRET_KEYS = [
    "receiverPasswordA",
    "receiverPasswordB",
    "statsPasswordA",
    "statsPasswordB",
    "pgbouncerAdminPasswordA",
    "pgbouncerAdminPasswordB",
    "monitorPassword",
    "webhookSigningSecret",
    "postgresAdminPassword",
] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
/** The secrets the rendered files need. */
export type TierSecretKey = Exclude<SecretKey, "postgresAdminPassword">;
/**
 * The hand-made `webhook_receiver`'s pre-hashed secret, as its userlist.txt holds it: needed only while the
 * cutover block is there (the stack's PgBouncer accepts the hand-made receivers), never its plaintext password.
 */
export const CUTOVER_SECRET_KEY = "legacyReceiverSecret";
export type CutoverSecretKey = typeof CUTOVER_SECRET_KEY;
/** Every secret key a stack may set: the required ones and the cutover's. */
export const KNOWN_SECRET_KEYS: readonly string[] = [...SECRET_KEYS, CUTOVER_SECRET_KEY];
export type TierSecrets = Record<TierSecretKey, string> & Partial<Record<CutoverSecretKey, string>>;
/** Every secret a stack's program reads: the required ones and, during the cutover, the legacy login's. */
export type StackSecrets = Record<SecretKey, string> & Partial<Record<CutoverSecretKey, string>>;
export const TIER_SECRET_KEYS = SECRET_KEYS.filter((key): key is TierSecretKey => key !== "postgresAdminPassword");
export type LoginRotation = z.infer<typeof loginRotationSchema>;

export const CONFIG_NAMESPACE = "receiver-tier";
