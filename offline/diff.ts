import { PolicyViolation } from "../policy/offline";
import { Plan, PlannedResource } from "./describe";
import { flatten } from "./flatten";
import { pathPattern, replacingPaths } from "./replacements";

export interface InputChange {
    readonly path: string;
    readonly before: unknown;
    readonly after: unknown;
}

export interface ResourceChange {
    readonly type: string;
    readonly name: string;
    /** "replace" when a changed input cannot be updated in place (`+-` in `pulumi preview`). */
    readonly action: "replace" | "update";
    /** The changed inputs that force the replacement. */
    readonly replacedBy: string[];
    /** Auto scaling groups whose instances this change replaces by a rolling instance refresh. */
    readonly rolls: string[];
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
    /** The policy pack's findings on the new plan. */
    readonly violations: PolicyViolation[];
}

const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const AUTO_SCALING_GROUP = "aws:autoscaling/group:Group";

/** True when `value` holds `text` anywhere (a nested input referencing another resource's id). */
function mentions(value: unknown, text: string): boolean {
    if (typeof value === "string") return value === text;
    if (Array.isArray(value)) return value.some((v) => mentions(v, text));
    if (typeof value === "object" && value !== null) return Object.values(value).some((v) => mentions(v, text));
    return false;
}

/**
 * Groups that launch from a template: a changed template is a new version, and a group with
 * `launchTemplate` pointing at it rolls its instances by instance refresh. The mocked engine
 * gives each resource the id `<id of name>`, which the group's inputs reference.
 */
function groupsLaunchingFrom(template: PlannedResource, plan: Plan): string[] {
    const id = `<id of ${template.name}>`;
    const name = template.inputs.name;
    return plan.resources
        .filter((r) => r.type === AUTO_SCALING_GROUP)
        .filter((group) => mentions(group.inputs, id) || (typeof name === "string" && mentions(group.inputs, name)))
        .map((group) => group.name);
}

function resourceChange(before: PlannedResource, after: PlannedResource, plan: Plan): ResourceChange {
    const ignored = (after.ignoreChanges ?? []).map(pathPattern);
    // ignoreChanges inputs keep their old value in an update: they are no change at all.
    const changes = changesBetween(before.inputs, after.inputs).filter((change) => !ignored.some((pattern) => pattern.test(change.path)));
    const replacedBy = replacingPaths(
        after.type,
        after.inputs,
        after.replaceOnChanges ?? [],
        changes.map((change) => change.path),
    );
    const rolls = after.type === LAUNCH_TEMPLATE && changes.length > 0 ? groupsLaunchingFrom(after, plan) : [];
    return { type: after.type, name: after.name, action: replacedBy.length > 0 ? "replace" : "update", replacedBy, rolls, changes };
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
        .map((r) => resourceChange(old.get(key(r))!, r, after))
        .filter((r) => r.changes.length > 0)
        // Replacements first: they are what a reviewer must not miss.
        .sort((a, b) => Number(b.action === "replace") - Number(a.action === "replace"));
    return {
        stack: after.stack,
        base,
        added: after.resources.filter((r) => !old.has(key(r))),
        removed: before.resources.filter((r) => !current.has(key(r))),
        changed,
        outputs: changesBetween(before.outputs, after.outputs),
        violations: after.violations,
    };
}
