import * as fs from "fs";

/** What a stack's state holds, from `pulumi stack export`: each resource by type and name. */
export interface StackState {
    has(type: string, name: string): boolean;
}

/** A stack that was never deployed: nothing is the stack's own yet. */
export const NO_STATE: StackState = { has: () => false };

interface ExportedResource {
    readonly urn?: unknown;
    readonly type?: unknown;
}

/**
 * Reads `pulumi stack export` output (the file, or stdin for `-`). A resource's name is the last
 * segment of its URN (`urn:pulumi:<stack>::<project>::<type chain>::<name>`).
 */
export function readStackState(file: string, stack: string): StackState {
    const text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
    let parsed: { deployment?: { resources?: ExportedResource[] } };
    try {
        parsed = JSON.parse(text);
    } catch (err) {
        throw new Error(
            `--state ${file}: not JSON (${(err as Error).message}); give the output of \`pulumi stack export --stack ${stack}\``,
        );
    }
    const resources = parsed.deployment?.resources;
    if (!Array.isArray(resources))
        throw new Error(`--state ${file}: no deployment.resources; give the output of \`pulumi stack export --stack ${stack}\``);
    const held = new Set<string>();
    for (const resource of resources) {
        if (typeof resource.urn !== "string" || typeof resource.type !== "string") continue;
        if (!resource.urn.startsWith(`urn:pulumi:${stack}::`)) {
            throw new Error(`--state ${file} holds ${resource.urn}, not stack ${stack}'s state`);
        }
        held.add(`${resource.type}::${resource.urn.slice(resource.urn.lastIndexOf("::") + 2)}`);
    }
    return { has: (type, name) => held.has(`${type}::${name}`) };
}
