import { databaseTimeoutSetting, roleInputs, tierRoles } from "../components/model/roles";
import { TierConfig } from "../components/schema/schema";
import { parameterNames } from "../components/model/parameterNames";
import { POLICY_RULES } from "./policies";
import { Props, TYPES } from "./rules";

/** A resource as the policy pack sees it: type, name and plain (unwrapped) inputs. */
export interface CheckedResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Props;
}

/** One finding of the policy pack, named by rule and resource. */
export interface PolicyViolation {
    readonly policy: string;
    readonly enforcementLevel: "mandatory" | "advisory";
    readonly resource: string;
    readonly type: string;
    readonly message: string;
}

/**
 * The policy pack's rules on each resource, with the pack's default config: what
 * `pulumi preview --policy-pack policy` reports when no `--policy-pack-config` is given.
 */
export function policyViolations(resources: readonly CheckedResource[]): PolicyViolation[] {
    return resources.flatMap((resource) =>
        POLICY_RULES.flatMap((policy) =>
            policy.rule(resource.type, resource.inputs, policy.defaults).map((message) => ({
                policy: policy.name,
                enforcementLevel: policy.enforcementLevel,
                resource: resource.name,
                type: resource.type,
                message,
            })),
        ),
    );
}

export const mandatoryViolations = (violations: readonly PolicyViolation[]) => violations.filter((v) => v.enforcementLevel === "mandatory");

export function formatViolations(violations: readonly PolicyViolation[]): string {
    return violations.map((v) => `  ${v.enforcementLevel}: ${v.policy}: ${v.resource} (${v.type}): ${v.message}`).join("\n");
}

/**
 * The resources that carry config values the pack judges, as the components build them: the
 * rendered pgbouncer.ini (pool_mode), the tier's roles and the database statement_timeout.
 * `render` checks these without running the program; a unit test holds them to the program's.
 */
export function configPolicyResources(cfg: TierConfig, stack: string, pgbouncerIni: string): CheckedResource[] {
    return [
        {
            type: TYPES.ssmParameter,
            name: "pgbouncer.ini",
            inputs: { name: parameterNames(stack).pgbouncerIni, type: "String", insecureValue: pgbouncerIni },
        },
        ...tierRoles(cfg).map((role) => ({
            type: TYPES.postgresRole,
            name: `role ${role.name}`,
            inputs: roleInputs(role, undefined),
        })),
        {
            type: TYPES.databaseSetting,
            name: `database ${cfg.postgres.database} statement_timeout`,
            inputs: databaseTimeoutSetting(cfg),
        },
    ];
}
