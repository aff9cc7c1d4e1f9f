import { endpointClashes } from "../components/config/endpointClaims";
import { parseTierConfig } from "../components/config/load";
import { ConfigError } from "../components/schema/problems";
import { listStacks, readStackFile } from "../components/config/stackFile";
import { TierConfig } from "../components/schema/schema";
import { Check, fail, pass } from "./result";

/**
 * The stack's public and private names against every other stack file of the project: a second
 * stack answering on the same name would take over (or break) the first one's record.
 */
export function endpointChecks(stack: string, stacks: Readonly<Record<string, TierConfig>>): Check[] {
    const clashes = endpointClashes(stacks).filter((clash) => clash.stacks.includes(stack));
    if (clashes.length === 0) return [pass("receiver.domain and pgbouncer.dnsName: no other stack file claims them")];
    return clashes.map((clash) =>
        fail(`receiver-tier:${clash.key} ${clash.name} is also claimed by ${clash.stacks.filter((s) => s !== stack).join(", ")}`),
    );
}

/** Every stack file of the project that validates (one that does not is its own stack's problem). */
export function projectStacks(projectDir: string): Record<string, TierConfig> {
    const stacks: Record<string, TierConfig> = {};
    for (const name of listStacks(projectDir)) {
        try {
            stacks[name] = parseTierConfig(readStackFile(projectDir, name).raw).config;
        } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
        }
    }
    return stacks;
}
