import { Plan, PlannedResource } from "./describe";
import { flatten } from "./flatten";

export interface InputChange {
    readonly path: string;
    readonly before: unknown;
    readonly after: unknown;
}

export interface ResourceChange {
    readonly type: string;
    readonly name: string;
    readonly changes: InputChange[];
}

/** What differs between two plans of one stack. */
export interface PlanDiff {
    readonly stack: string;
    readonly base: string;
    readonly added: PlannedResource[];
    readonly removed: PlannedResource[];
    readonly changed: ResourceChange[];
    readonly outputs: InputChange[];
}

function changesBetween(before: Record<string, unknown>, after: Record<string, unknown>): InputChange[] {
    const a = new Map(flatten(before));
    const b = new Map(flatten(after));
    const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
    return paths
        .filter((path) => JSON.stringify(a.get(path)) !== JSON.stringify(b.get(path)))
        .map((path) => ({ path, before: a.get(path), after: b.get(path) }));
}

export function diffPlans(base: string, before: Plan, after: Plan): PlanDiff {
    const key = (r: PlannedResource) => `${r.type} ${r.name}`;
    const old = new Map(before.resources.map((r) => [key(r), r]));
    const current = new Map(after.resources.map((r) => [key(r), r]));
    const changed = after.resources
        .filter((r) => old.has(key(r)))
        .map((r) => ({ type: r.type, name: r.name, changes: changesBetween(old.get(key(r))!.inputs, r.inputs) }))
        .filter((r) => r.changes.length > 0);
    return {
        stack: after.stack,
        base,
        added: after.resources.filter((r) => !old.has(key(r))),
        removed: before.resources.filter((r) => !current.has(key(r))),
        changed,
        outputs: changesBetween(before.outputs, after.outputs),
    };
}
