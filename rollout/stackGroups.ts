import * as fs from "fs";

/** An auto scaling group of the stack, as its state records it after an update. */
export interface StackGroup {
    /** The group's name in AWS. */
    readonly groupName: string;
    readonly launchTemplateId: string;
    /** The launch template version the group is set to. */
    readonly version: string;
}

interface ExportedResource {
    readonly type?: unknown;
    readonly outputs?: { name?: unknown; launchTemplate?: { id?: unknown; version?: unknown } };
}

/** The stack's auto scaling groups from `pulumi stack export` output (a file, or `-` for stdin). */
export function readStackGroups(file: string): StackGroup[] {
    const parsed = JSON.parse(fs.readFileSync(file === "-" ? 0 : file, "utf8")) as { deployment?: { resources?: ExportedResource[] } };
    const resources = parsed.deployment?.resources;
    if (!Array.isArray(resources)) throw new Error(`${file}: no deployment.resources; give the output of \`pulumi stack export\``);
    return resources.flatMap((resource) => {
        const out = resource.outputs;
        if (resource.type !== "aws:autoscaling/group:Group" || out === undefined) return [];
        const { name } = out;
        const { id, version } = out.launchTemplate ?? {};
        if (typeof name !== "string" || typeof id !== "string" || (typeof version !== "string" && typeof version !== "number")) return [];
        return [{ groupName: name, launchTemplateId: id, version: String(version) }];
    });
}

/** A group the update moved to a new launch template version: the provider started an instance refresh onto it. */
export interface Roll {
    readonly group: StackGroup;
    /** The version it ran before the update, the one to return to. */
    readonly previousVersion: string;
}

/** The groups whose launch template version changed between the state before and after `pulumi up`. */
export function rollsOf(before: readonly StackGroup[], after: readonly StackGroup[]): Roll[] {
    return after.flatMap((group) => {
        const old = before.find((b) => b.groupName === group.groupName && b.launchTemplateId === group.launchTemplateId);
        return old !== undefined && old.version !== group.version ? [{ group, previousVersion: old.version }] : [];
    });
}
