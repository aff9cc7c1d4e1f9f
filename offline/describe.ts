import { policyViolations, PolicyViolation } from "../policy/offline";
import type { ProgramRun } from "./mockEngine";
import { mapSecrets, plain, SECRET_MASK } from "./secretValues";

/** One resource as a reviewer reads it. */
export interface PlannedResource {
    readonly type: string;
    readonly name: string;
    readonly parent: string;
    readonly inputs: Record<string, unknown>;
    /** The `replaceOnChanges` and `ignoreChanges` resource options, when set. */
    readonly replaceOnChanges?: string[];
    readonly ignoreChanges?: string[];
}

/** Everything the program would register, in a stable order, with secrets masked, and what the policy pack says of it. */
export interface Plan {
    readonly stack: string;
    readonly resources: PlannedResource[];
    readonly outputs: Record<string, unknown>;
    /** Absent in plans made by commits before the plan ran the policy pack. */
    readonly violations: PolicyViolation[];
}

// Inputs that are noise to a reviewer: the dynamic provider's serialized code.
const HIDDEN_INPUTS = new Set(["__provider"]);

// EC2 launch templates take base64 user data; reviewers need the text.
function readable(value: unknown): unknown {
    if (typeof value === "string" && /^[A-Za-z0-9+/]+=*$/.test(value) && value.length > 40) {
        const text = Buffer.from(value, "base64").toString("utf8");
        if (text.startsWith("#cloud-config")) return text;
    }
    return value;
}

function sortKeys(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(sortKeys);
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(
            Object.keys(value)
                .sort()
                .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
        );
    }
    return readable(value);
}

/** "<type> <name>" of a resource URN (urn:pulumi:stack::project::parentType$type::name); "(stack)" for none or the stack itself. */
export function describeUrn(urn: string): string {
    const [, , qualifiedType = "", ...name] = urn.split("::");
    const type = qualifiedType.split("$").pop() ?? "";
    return urn === "" || type === "pulumi:pulumi:Stack" ? "(stack)" : `${type} ${name.join("::")}`;
}

export function describePlan(stack: string, run: ProgramRun): Plan {
    const resources = run.resources
        .map((r) => ({
            type: r.type,
            name: r.name,
            // The parent the SDK registered the resource with.
            parent: describeUrn(r.parentUrn),
            inputs: sortKeys(
                Object.fromEntries(
                    Object.entries(mapSecrets(r.inputs, () => SECRET_MASK) as Record<string, unknown>).filter(
                        ([key]) => !HIDDEN_INPUTS.has(key),
                    ),
                ),
            ) as Record<string, unknown>,
            ...(r.options.replaceOnChanges.length > 0 ? { replaceOnChanges: r.options.replaceOnChanges } : {}),
            ...(r.options.ignoreChanges.length > 0 ? { ignoreChanges: r.options.ignoreChanges } : {}),
        }))
        .sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
    // The pack sees inputs with secrets revealed, as the engine hands them to it.
    const violations = policyViolations(
        run.resources.map((r) => ({ type: r.type, name: r.name, inputs: plain(r.inputs) as Record<string, unknown> })),
    );
    return { stack, resources, outputs: sortKeys(run.outputs) as Record<string, unknown>, violations };
}
