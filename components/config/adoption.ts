import { tierRoles } from "../model/roles";
import { recordImportId } from "../model/names";
import { configKey, Problem } from "../schema/problems";
import { SchemaConfig } from "../schema/schema";

const error = (path: (string | number)[], message: string): Problem => ({
    path: configKey(["adopt", ...path]),
    message,
    severity: "error",
});

/**
 * Each adopt id must name the very resource the stack declares: Pulumi reads the existing object by
 * that id, and a wrong one would adopt (and then change) something else.
 */
export function adoptionIdsMatch(cfg: SchemaConfig): Problem[] {
    const adopt = cfg.adopt;
    const roleNames = tierRoles(cfg).map((role) => role.name);
    const problems = Object.entries(adopt.roles).flatMap(([role, id]) => {
        if (!roleNames.includes(role)) return [error(["roles", role], `not a role of this tier (${roleNames.join(", ")})`)];
        return id === role ? [] : [error(["roles", role], `a role's import id is its name: '${role}', not '${id}'`)];
    });
    const expected: [string, string | undefined, () => string | undefined][] = [
        [
            "publicRecord",
            adopt.publicRecord,
            () => cfg.aws && cfg.receiver.domain && recordImportId(cfg.aws.publicZoneId, cfg.receiver.domain),
        ],
        ["privateRecord", adopt.privateRecord, () => cfg.aws && recordImportId(cfg.aws.privateZoneId, cfg.pgbouncer.dnsName)],
    ];
    for (const [key, id, want] of expected) {
        if (id === undefined) continue;
        const wanted = want();
        if (wanted === undefined) problems.push(error([key], "only the aws platform creates DNS records"));
        else if (id !== wanted) problems.push(error([key], `'${id}' is not the stack's resource; its import id is '${wanted}'`));
    }
    return problems;
}
