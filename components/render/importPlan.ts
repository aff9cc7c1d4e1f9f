import { COMPONENT_TYPES, RESOURCE_NAMES, RESOURCE_TYPES } from "../model/resources";
import { TierConfig } from "../schema/schema";

/** One resource of a `pulumi import --file` document. */
export interface ImportEntry {
    readonly type: string;
    readonly name: string;
    readonly id?: string;
    /** A key of nameTable, or the name of a component entry of the same file. */
    readonly parent?: string;
    /** A key of nameTable naming the provider's URN. */
    readonly provider?: string;
    /** An empty component the import creates as the parent of the others. */
    readonly component?: boolean;
}

/** The document `pulumi import --file` reads. */
export interface ImportPlan {
    readonly nameTable: Record<string, string>;
    readonly resources: ImportEntry[];
}

/** Resource types and names as the program declares them. */
const ADOPTABLE = {
    settings: { type: COMPONENT_TYPES.postgresSettings, name: RESOURCE_NAMES.postgresSettings },
    provider: {
        type: "pulumi:providers:postgresql",
        name: (stack: string) => RESOURCE_NAMES.postgresProvider(RESOURCE_NAMES.postgresSettings(stack)),
    },
    role: {
        type: "postgresql:index/role:Role",
        name: (stack: string, role: string) => RESOURCE_NAMES.role(RESOURCE_NAMES.postgresSettings(stack), role),
    },
    pgbouncerFleet: { type: COMPONENT_TYPES.pgbouncerFleet, name: RESOURCE_NAMES.pgbouncerFleet },
    receiverFleet: { type: COMPONENT_TYPES.receiverFleet, name: RESOURCE_NAMES.receiverFleet },
    record: { type: RESOURCE_TYPES.record },
} as const;

function urn(stack: string, project: string, types: readonly string[], name: string): string {
    return `urn:pulumi:${stack}::${project}::${types.join("$")}::${name}`;
}

/**
 * The adopted roles and DNS records as a `pulumi import --file` document. Parents are empty
 * components the import creates; the roles name the stack's PostgreSQL provider, which must already
 * be in the stack. The database setting is a dynamic resource, which only the program can import
 * (its adopt id, as the `import` option): it is not in this file.
 */
export function renderImportPlan(cfg: TierConfig, stack: string, project: string): ImportPlan {
    const settings = ADOPTABLE.settings.name(stack);
    const providerName = ADOPTABLE.provider.name(stack);
    const roles = Object.entries(cfg.adopt.roles).map(([role, id]): ImportEntry => ({
        type: ADOPTABLE.role.type,
        name: ADOPTABLE.role.name(stack, role),
        id,
        parent: settings,
        provider: providerName,
    }));
    const records: ImportEntry[] = [];
    const aws = cfg.aws;
    if (aws && cfg.adopt.privateRecord !== undefined) {
        const parent = ADOPTABLE.pgbouncerFleet.name(stack);
        records.push({ type: ADOPTABLE.pgbouncerFleet.type, name: parent, component: true });
        records.push({ type: ADOPTABLE.record.type, name: RESOURCE_NAMES.aliasRecord(parent), id: cfg.adopt.privateRecord, parent });
    }
    if (aws && cfg.receiver.domain !== undefined && cfg.adopt.publicRecord !== undefined) {
        const parent = ADOPTABLE.receiverFleet.name(stack);
        records.push({ type: ADOPTABLE.receiverFleet.type, name: parent, component: true });
        records.push({ type: ADOPTABLE.record.type, name: RESOURCE_NAMES.aliasRecord(parent), id: cfg.adopt.publicRecord, parent });
    }
    const settingsEntry: ImportEntry[] = roles.length > 0 ? [{ type: ADOPTABLE.settings.type, name: settings, component: true }] : [];
    return {
        nameTable:
            roles.length > 0
                ? { [providerName]: urn(stack, project, [ADOPTABLE.settings.type, ADOPTABLE.provider.type], providerName) }
                : {},
        resources: [...settingsEntry, ...roles, ...records],
    };
}
