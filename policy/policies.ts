import type { PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import {
    DATABASE_INGRESS_DEFAULTS,
    DatabaseIngressConfig,
    encryptedVolumes,
    imdsV2Required,
    noSecretsInUserData,
    noWorldOpenDatabaseIngress,
    pgbouncerTransactionPooling,
    Props,
    receiverStatementTimeoutCapped,
    STATEMENT_TIMEOUT_DEFAULTS,
    StatementTimeoutConfig,
} from "./rules";

// The policy list lives apart from index.ts because constructing a PolicyPack starts a gRPC
// server for the Pulumi engine; tests import this module and never start one.

/** Every policy blocks the deployment: these are the tier's non-negotiables. */
const MANDATORY = "mandatory";

/**
 * One policy as data: its rule and config defaults. `npm run plan` and `npm run render` run the
 * same list on the mocked resources, so an offline check fails where `pulumi preview --policy-pack` would.
 */
export interface PolicyRule<Config extends object = object> {
    readonly name: string;
    readonly description: string;
    readonly enforcementLevel: "mandatory" | "advisory";
    readonly rule: (type: string, props: Props, config: Config) => string[];
    /** What `--policy-pack-config` leaves out. */
    readonly defaults: Config;
    readonly configSchema?: PolicyConfigSchema;
}

function policy<Config extends object>(
    name: string,
    description: string,
    rule: (type: string, props: Props, config: Config) => string[],
    defaults: Config,
    configSchema?: PolicyConfigSchema,
): PolicyRule {
    return { name, description, enforcementLevel: MANDATORY, rule: rule as PolicyRule["rule"], defaults, configSchema };
}

/** The engine-facing form of a rule. */
function resourcePolicy({ name, description, enforcementLevel, rule, defaults, configSchema }: PolicyRule): ResourceValidationPolicy {
    return {
        name,
        description,
        enforcementLevel,
        configSchema,
        validateResource: (args: ResourceValidationArgs, reportViolation) => {
            const config = { ...defaults, ...args.getConfig<object>() };
            rule(args.type, args.props, config).forEach((message) => reportViolation(message));
        },
    };
}

const noConfig = {};

export const POLICY_RULES: readonly PolicyRule[] = [
    policy<DatabaseIngressConfig>(
        "no-world-open-database-ingress",
        "Security groups must not admit 0.0.0.0/0 or ::/0 to the PostgreSQL or PgBouncer port (port ranges and protocol -1 included).",
        noWorldOpenDatabaseIngress,
        DATABASE_INGRESS_DEFAULTS,
        {
            properties: {
                databasePorts: {
                    type: "array",
                    items: { type: "integer", minimum: 1, maximum: 65535 },
                    default: [...DATABASE_INGRESS_DEFAULTS.databasePorts],
                    description: "TCP ports of PostgreSQL and PgBouncer (stack config postgres.port and pgbouncer.port).",
                },
            },
        },
    ),
    policy(
        "imdsv2-required",
        "EC2 instances and launch templates must require IMDSv2 (metadataOptions.httpTokens = required).",
        imdsV2Required,
        noConfig,
    ),
    policy(
        "encrypted-volumes",
        "EBS volumes must be encrypted: instance root and EBS devices, every launch template EBS mapping (at least one), standalone volumes.",
        encryptedVolumes,
        noConfig,
    ),
    policy(
        "no-plaintext-secrets-in-user-data",
        "User data (plain, base64 or gzip) must not carry md5 secrets, SCRAM verifiers, PgBouncer userlist lines or literal password assignments.",
        noSecretsInUserData,
        noConfig,
    ),
    policy<StatementTimeoutConfig>(
        "receiver-statement-timeout-capped",
        "Both receiver logins' statementTimeout must be set and at most the configured cap (the runbook's 5 s).",
        receiverStatementTimeoutCapped,
        STATEMENT_TIMEOUT_DEFAULTS,
        {
            properties: {
                receiverRoleName: {
                    type: "string",
                    default: STATEMENT_TIMEOUT_DEFAULTS.receiverRoleName,
                    description: "The receivers' role (stack config receiverRole.name); its logins <name>_a and <name>_b are checked.",
                },
                maxStatementTimeoutMs: {
                    type: "integer",
                    minimum: 1,
                    default: STATEMENT_TIMEOUT_DEFAULTS.maxStatementTimeoutMs,
                    description: "Largest allowed statementTimeout in milliseconds.",
                },
            },
        },
    ),
    policy(
        "pgbouncer-transaction-pooling",
        "Every rendered pgbouncer.ini (SSM parameter or Docker upload) must run pool_mode = transaction, with no per-database or per-user override.",
        pgbouncerTransactionPooling,
        noConfig,
    ),
];

export const policies: ResourceValidationPolicy[] = POLICY_RULES.map(resourcePolicy);
