import {
    PGBOUNCER_PORT,
    POSTGRES_PORT,
    RECEIVER_ROLE_NAME,
    RUNBOOK_STATEMENT_TIMEOUT,
    TIER_POOL_MODE,
} from "../components/schema/defaults";
import { durationToMs, isDuration } from "../components/schema/duration";
import { LOGIN_SLOTS } from "../components/schema/loginSlots";
import { includesOtherFiles, poolModeSettings } from "./pgbouncerIni";
import { secretsInUserData } from "./userData";

// Each rule takes a resource's Pulumi type token and its input properties and returns one message
// per violation (none when the resource complies or the rule does not apply to the type).
// Plain functions so unit tests call them without the Pulumi CLI; policies.ts wires them up.

export type Props = Readonly<Record<string, unknown>>;

export const TYPES = {
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    securityGroupIngressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    instance: "aws:ec2/instance:Instance",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    volume: "aws:ebs/volume:Volume",
    ssmParameter: "aws:ssm/parameter:Parameter",
    dockerContainer: "docker:index/container:Container",
    postgresRole: "postgresql:index/role:Role",
    databaseSetting: "pulumi-nodejs:dynamic/receiver-tier:DatabaseSetting",
} as const;

const record = (value: unknown): Props => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Props) : {});
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const show = (value: unknown): string => (value === undefined ? "unset" : JSON.stringify(value));

// ---- 1. No world-open ingress to the database ports ----

export interface DatabaseIngressConfig {
    /** TCP ports that must never be reachable from everywhere: PostgreSQL and PgBouncer. */
    readonly databasePorts: readonly number[];
}

/** The schema's default ports; a stack that moves them sets the policy config to match (docs/ci-and-policy.md). */
export const DATABASE_INGRESS_DEFAULTS: DatabaseIngressConfig = { databasePorts: [POSTGRES_PORT, PGBOUNCER_PORT] };

interface IngressPermission {
    readonly where: string;
    readonly protocol: string;
    readonly fromPort: unknown;
    readonly toPort: unknown;
    readonly cidrs: readonly string[];
}

const strings = (...values: unknown[]): string[] =>
    values.flatMap((value) => (Array.isArray(value) ? value : [value])).filter((v): v is string => typeof v === "string");

function ingressPermissions(type: string, props: Props): IngressPermission[] {
    switch (type) {
        case TYPES.securityGroupIngressRule:
            return [
                {
                    where: "ingress",
                    protocol: String(props.ipProtocol),
                    fromPort: props.fromPort,
                    toPort: props.toPort,
                    cidrs: strings(props.cidrIpv4, props.cidrIpv6),
                },
            ];
        case TYPES.securityGroupRule:
            return props.type === "ingress"
                ? [
                      {
                          where: "ingress",
                          protocol: String(props.protocol),
                          fromPort: props.fromPort,
                          toPort: props.toPort,
                          cidrs: strings(props.cidrBlocks, props.ipv6CidrBlocks),
                      },
                  ]
                : [];
        case TYPES.securityGroup:
            return list(props.ingress)
                .map(record)
                .map((rule, index) => ({
                    where: `ingress[${index}]`,
                    protocol: String(rule.protocol),
                    fromPort: rule.fromPort,
                    toPort: rule.toPort,
                    cidrs: strings(rule.cidrBlocks, rule.ipv6CidrBlocks),
                }));
        default:
            return [];
    }
}

/** "-1"/"all" open every protocol and port; AWS ignores the port fields then. */
const ALL_PROTOCOLS = new Set(["-1", "all"]);
const TCP = new Set(["tcp", "6"]);
/** A /0 prefix covers the whole address family: 0.0.0.0/0, ::/0 and their spellings. */
const isEverywhere = (cidr: string) => /\/0$/.test(cidr.trim());
/** A missing port bound counts as the end of the range, so an incomplete rule errs towards flagging. */
const port = (value: unknown, fallback: number) => (value === undefined || value === null || value === "" ? fallback : Number(value));

function reachablePorts(permission: IngressPermission, databasePorts: readonly number[]): readonly number[] {
    const protocol = permission.protocol.toLowerCase();
    if (ALL_PROTOCOLS.has(protocol)) {
        return databasePorts;
    }
    if (!TCP.has(protocol)) {
        return [];
    }
    const from = port(permission.fromPort, 0);
    const to = port(permission.toPort, 65535);
    return databasePorts.filter((candidate) => from <= candidate && candidate <= to);
}

function describeTraffic(permission: IngressPermission): string {
    return ALL_PROTOCOLS.has(permission.protocol.toLowerCase())
        ? "all protocols and ports"
        : `${permission.protocol} ports ${show(permission.fromPort)}-${show(permission.toPort)}`;
}

export function noWorldOpenDatabaseIngress(
    type: string,
    props: Props,
    config: DatabaseIngressConfig = DATABASE_INGRESS_DEFAULTS,
): string[] {
    return ingressPermissions(type, props).flatMap((permission) => {
        const worldCidrs = permission.cidrs.filter(isEverywhere);
        const ports = worldCidrs.length > 0 ? reachablePorts(permission, config.databasePorts) : [];
        return ports.map(
            (reached) =>
                `${permission.where} lets ${worldCidrs.join(" and ")} reach database port ${reached} (${describeTraffic(permission)}); allow only the tier's security groups or private CIDRs`,
        );
    });
}

// ---- 2. IMDSv2 only ----

export function imdsV2Required(type: string, props: Props): string[] {
    if (type !== TYPES.instance && type !== TYPES.launchTemplate) {
        return [];
    }
    const httpTokens = record(props.metadataOptions).httpTokens;
    return httpTokens === "required"
        ? []
        : [
              `metadataOptions.httpTokens is ${show(httpTokens)}; set it to "required" so only IMDSv2 session tokens can read instance credentials`,
          ];
}

// ---- 3. Encrypted volumes ----

function instanceVolumeProblems(props: Props): string[] {
    const root = record(props.rootBlockDevice);
    const rootProblem = root.encrypted === true ? [] : [`rootBlockDevice.encrypted is ${show(root.encrypted)}; set it to true`];
    const ebsProblems = list(props.ebsBlockDevices)
        .map(record)
        .flatMap((device, index) =>
            device.encrypted === true
                ? []
                : [
                      `ebsBlockDevices[${index}] (${text(device.deviceName) ?? "no deviceName"}).encrypted is ${show(device.encrypted)}; set it to true`,
                  ],
        );
    return [...rootProblem, ...ebsProblems];
}

/** Instance-store (virtualName) and suppressed (noDevice) mappings are not EBS volumes. */
const isNonEbsMapping = (mapping: Props) =>
    mapping.ebs === undefined && (mapping.virtualName !== undefined || mapping.noDevice !== undefined);

function launchTemplateVolumeProblems(props: Props): string[] {
    const mappings = list(props.blockDeviceMappings).map(record);
    const ebsMappings = mappings.filter((mapping) => !isNonEbsMapping(mapping));
    if (ebsMappings.length === 0) {
        return [
            'no blockDeviceMappings with ebs; map the root device with ebs.encrypted "true", or the root volume follows the AMI and may be unencrypted',
        ];
    }
    // The launch template schema types ebs.encrypted as a string.
    return ebsMappings.flatMap((mapping) => {
        const encrypted = record(mapping.ebs).encrypted;
        return String(encrypted) === "true"
            ? []
            : [
                  `blockDeviceMappings (${text(mapping.deviceName) ?? "no deviceName"}).ebs.encrypted is ${show(encrypted)}; set it to "true"`,
              ];
    });
}

export function encryptedVolumes(type: string, props: Props): string[] {
    switch (type) {
        case TYPES.instance:
            return instanceVolumeProblems(props);
        case TYPES.launchTemplate:
            return launchTemplateVolumeProblems(props);
        case TYPES.volume:
            return props.encrypted === true ? [] : [`encrypted is ${show(props.encrypted)}; set it to true`];
        default:
            return [];
    }
}

// ---- 4. No plaintext secrets in user data ----

/** The user data fields per type. Instance.userData is plain text, the others base64; the decoder handles both. */
const USER_DATA_FIELDS: Readonly<Record<string, readonly string[]>> = {
    [TYPES.instance]: ["userData", "userDataBase64"],
    [TYPES.launchTemplate]: ["userData"],
};

export function noSecretsInUserData(type: string, props: Props): string[] {
    return (USER_DATA_FIELDS[type] ?? []).flatMap((field) => {
        const userData = text(props[field]);
        return userData === undefined
            ? []
            : secretsInUserData(userData).map(
                  (what) =>
                      `${field} contains ${what}; deliver secrets through SSM Parameter Store (SecureString) and fetch them on the host`,
              );
    });
}

// ---- 5. Receiver role statement timeout capped ----

export interface StatementTimeoutConfig {
    /** The receivers' role (stack config receiverRole.name): its alternating logins `<name>_a`/`<name>_b` must be cut off. */
    readonly receiverRoleName: string;
    /** Upper bound in milliseconds; the runbook's 5 s. */
    readonly maxStatementTimeoutMs: number;
}

/** The schema's default role name, and its default statement timeout (the runbook's 5 s) as the cap. */
export const STATEMENT_TIMEOUT_DEFAULTS: StatementTimeoutConfig = {
    receiverRoleName: RECEIVER_ROLE_NAME,
    maxStatementTimeoutMs: durationToMs(RUNBOOK_STATEMENT_TIMEOUT),
};

export function receiverStatementTimeoutCapped(
    type: string,
    props: Props,
    config: StatementTimeoutConfig = STATEMENT_TIMEOUT_DEFAULTS,
): string[] {
    const cap = config.maxStatementTimeoutMs;
    // The database-level default (ALTER DATABASE ... SET) covers sessions the role setting misses.
    if (type === TYPES.databaseSetting && props.name === "statement_timeout") {
        const value = text(props.value) ?? "";
        const ms = isDuration(value) ? durationToMs(value) : NaN;
        return ms > 0 && ms <= cap
            ? []
            : [`database ${show(props.database)}: statement_timeout ${show(props.value)} is not within 1-${cap} ms`];
    }
    const logins: unknown[] = LOGIN_SLOTS.map((slot) => `${config.receiverRoleName}_${slot}`);
    if (type !== TYPES.postgresRole || !logins.includes(props.name)) {
        return [];
    }
    const timeout = props.statementTimeout;
    if (typeof timeout !== "number" || !(timeout > 0)) {
        return [`role ${show(props.name)}: statementTimeout is ${show(timeout)}, which means no limit; set 1-${cap} ms`];
    }
    return timeout <= cap ? [] : [`role ${show(props.name)}: statementTimeout ${timeout} ms exceeds the ${cap} ms cap`];
}

// ---- 6. PgBouncer transaction pooling ----

interface IniCopy {
    readonly where: string;
    /** The file's text, or undefined when the resource carries it in a form the policy cannot read. */
    readonly content: string | undefined;
}

function pgbouncerIniCopies(type: string, props: Props): IniCopy[] {
    if (type === TYPES.ssmParameter) {
        const name = text(props.name) ?? "";
        return name.endsWith("/pgbouncer.ini")
            ? [{ where: `parameter ${name}`, content: text(props.value) ?? text(props.insecureValue) }]
            : [];
    }
    if (type === TYPES.dockerContainer) {
        return list(props.uploads)
            .map(record)
            .filter((upload) => (text(upload.file) ?? "").endsWith("pgbouncer.ini"))
            .map((upload) => {
                const base64 = text(upload.contentBase64);
                return {
                    where: `upload ${text(upload.file)}`,
                    content: text(upload.content) ?? (base64 === undefined ? undefined : Buffer.from(base64, "base64").toString("utf8")),
                };
            });
    }
    return [];
}

function poolModeProblems(content: string): string[] {
    if (includesOtherFiles(content)) {
        return ["uses %include, which the policy cannot follow; render the whole configuration into one file"];
    }
    return poolModeSettings(content)
        .filter((setting) => setting.mode !== TIER_POOL_MODE)
        .map((setting) =>
            setting.explicit
                ? `${setting.where} sets pool_mode = ${setting.mode}; the receiver tier requires ${TIER_POOL_MODE}`
                : `${setting.where} is missing, so PgBouncer uses its default "${setting.mode}"; set pool_mode = ${TIER_POOL_MODE}`,
        );
}

export function pgbouncerTransactionPooling(type: string, props: Props): string[] {
    return pgbouncerIniCopies(type, props).flatMap(({ where, content }) =>
        content === undefined
            ? [`${where}: pgbouncer.ini is not given as inline text (value/content/contentBase64), so its pool_mode cannot be checked`]
            : poolModeProblems(content).map((problem) => `${where}: ${problem}`),
    );
}
