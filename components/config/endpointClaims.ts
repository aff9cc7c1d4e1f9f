import { TierConfig } from "../schema/schema";

/** Two stacks that would create the same DNS name. */
export interface EndpointClash {
    readonly key: "receiver.domain" | "pgbouncer.dnsName";
    readonly name: string;
    readonly stacks: readonly string[];
}

/**
 * The names the aws stacks create, and which of them more than one stack claims. Public names are
 * global (a canary answering as production is the failure), so receiver.domain must differ across all
 * stacks; a private name only within one private zone, where the second stack's record would fail or
 * take over the first one's.
 */
export function endpointClashes(stacks: Readonly<Record<string, TierConfig>>): EndpointClash[] {
    const claims = new Map<string, { key: EndpointClash["key"]; name: string; stacks: string[] }>();
    const claim = (key: EndpointClash["key"], scope: string, name: string, stack: string) => {
        const id = `${key}\0${scope}\0${name.toLowerCase()}`;
        const entry = claims.get(id) ?? { key, name, stacks: [] };
        entry.stacks.push(stack);
        claims.set(id, entry);
    };
    for (const [stack, cfg] of Object.entries(stacks)) {
        if (cfg.platform !== "aws") continue;
        if (cfg.receiver.domain !== undefined) claim("receiver.domain", "public", cfg.receiver.domain, stack);
        claim("pgbouncer.dnsName", cfg.aws.privateZoneId, cfg.pgbouncer.dnsName, stack);
    }
    return [...claims.values()].filter((entry) => entry.stacks.length > 1);
}
