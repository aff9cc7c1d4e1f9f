// The type tokens and resource names the engine records in every URN, for the components that declare
// them and for `npm run import-plan`, which must name the very same resources. A changed token or
// name replaces the resource (and, for a component, everything under it).

/** Each component's type token. */
export const COMPONENT_TYPES = {
    instanceRole: "receiver-tier:aws:InstanceRole",
    monitoring: "receiver-tier:aws:Monitoring",
    pgbouncerFleet: "receiver-tier:aws:PgbouncerFleet",
    pgbouncerTls: "receiver-tier:aws:PgbouncerTls",
    receiverFleet: "receiver-tier:aws:ReceiverFleet",
    rollingGroup: "receiver-tier:aws:RollingGroup",
    securityGroups: "receiver-tier:aws:SecurityGroups",
    senderLimits: "receiver-tier:aws:SenderLimits",
    localTier: "receiver-tier:local:LocalTier",
    postgresSettings: "receiver-tier:postgres:Settings",
} as const;

/** Names of the resources a stack can adopt, and of their parents. */
export const RESOURCE_NAMES = {
    postgresSettings: (stack: string) => `${stack}-postgres`,
    postgresProvider: (settings: string) => `${settings}-provider`,
    role: (settings: string, role: string) => `${settings}-role-${role}`,
    pgbouncerFleet: (stack: string) => `${stack}-pgbouncer`,
    receiverFleet: (stack: string) => `${stack}-receivers`,
    aliasRecord: (fleet: string) => `${fleet}-dns`,
} as const;

/** Provider resource types the stack's own checks look up in its state and in import documents. */
export const RESOURCE_TYPES = {
    record: "aws:route53/record:Record",
    role: "postgresql:index/role:Role",
} as const;
