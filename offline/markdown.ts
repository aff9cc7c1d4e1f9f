import { PolicyViolation } from "../policy/offline";
import { Plan, PlannedResource } from "./describe";
import { InputChange, PlanDiff, ResourceChange } from "./diff";
import { changedHunks, flatten, lineDiff } from "./flatten";

/** Marks the pull-request comment the workflow updates in place. */
export const COMMENT_MARKER = "<!-- receiver-tier-plan -->";

const code = (value: unknown) => `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;
const isMultiline = (value: unknown): value is string => typeof value === "string" && value.includes("\n");

function fenced(lang: string, lines: string[]): string[] {
    return ["", "```" + lang, ...lines, "```", ""];
}

function inputLines(inputs: Record<string, unknown>): string[] {
    return flatten(inputs).flatMap(([path, value]) =>
        isMultiline(value) ? [`- \`${path}\`:`, ...fenced("", value.replace(/\n$/, "").split("\n"))] : [`- \`${path}\`: ${code(value)}`],
    );
}

function resourceHeading(mark: string, r: { type: string; name: string }): string {
    return `#### ${mark ? `${mark} ` : ""}\`${r.name}\` (${r.type})`;
}

/** The policy pack's findings, each with its rule and resource; nothing when the plan complies. */
function violationLines(violations: readonly PolicyViolation[]): string[] {
    if (violations.length === 0) return [];
    return [
        "",
        `### Policy violations (${violations.length})`,
        "",
        ...violations.map((v) => `- **${v.enforcementLevel}** \`${v.policy}\` on \`${v.resource}\` (${v.type}): ${v.message}`),
    ];
}

export function planMarkdown(plan: Plan): string {
    const lines = [
        `## receiver-tier plan: stack \`${plan.stack}\``,
        "",
        `${plan.resources.length} resources, from the program run under the mocked engine. Secrets show as \`[secret]\`; cloud-computed values as \`<... of name>\`.`,
        ...violationLines(plan.violations),
        "",
        "### Outputs",
        "",
        ...flatten(plan.outputs).map(([path, value]) => `- \`${path}\`: ${code(value)}`),
        "",
        "### Resources",
    ];
    for (const r of plan.resources) {
        lines.push("", resourceHeading("", r), "", `parent: ${r.parent}`, "", ...inputLines(r.inputs));
    }
    return lines.join("\n") + "\n";
}

function changeLines(change: InputChange): string[] {
    if (isMultiline(change.before) || isMultiline(change.after)) {
        const before = typeof change.before === "string" ? change.before : "";
        const after = typeof change.after === "string" ? change.after : "";
        return [`- \`${change.path}\`:`, ...fenced("diff", changedHunks(lineDiff(before, after)))];
    }
    return [`- \`${change.path}\`: ${code(change.before ?? null)} → ${code(change.after ?? null)}`];
}

function listed(title: string, mark: string, resources: PlannedResource[]): string[] {
    return resources.length === 0
        ? []
        : ["", `### ${title}`, ...resources.flatMap((r) => ["", resourceHeading(mark, r), "", ...inputLines(r.inputs)])];
}

/** "2 to replace, 1 to update, 0 to add, 0 to remove": replacements first. */
export function diffSummary(diff: PlanDiff): string {
    const replace = diff.changed.filter((c) => c.action === "replace").length;
    const counts = `${replace} to replace, ${diff.changed.length - replace} to update, ${diff.added.length} to add, ${diff.removed.length} to remove`;
    const rolled = [...new Set(diff.changed.flatMap((c) => c.rolls))];
    return rolled.length === 0 ? counts : `${counts}; rolls ${rolled.map((group) => `\`${group}\``).join(", ")} (instance refresh)`;
}

function changedLines(change: ResourceChange): string[] {
    const notes = [
        ...(change.action === "replace"
            ? [`replaced: ${change.replacedBy.map((path) => `\`${path}\``).join(", ")} cannot change in place`]
            : []),
        ...change.rolls.map((group) => `rolls \`${group}\`: the new template version replaces its instances by instance refresh`),
    ];
    return [
        "",
        resourceHeading(change.action === "replace" ? "+-" : "~", change),
        "",
        ...notes.map((note) => `_${note}_`),
        ...(notes.length > 0 ? [""] : []),
        ...change.changes.flatMap(changeLines),
    ];
}

export function diffMarkdown(diff: PlanDiff): string {
    const lines = [
        COMMENT_MARKER,
        `## receiver-tier plan diff: stack \`${diff.stack}\` against \`${diff.base}\``,
        "",
        `**${diffSummary(diff)}**`,
    ];
    lines.push(...violationLines(diff.violations));
    if (diff.changed.length + diff.added.length + diff.removed.length + diff.outputs.length === 0) {
        lines.push("", "No resource or output changes.");
    }
    const replaced = diff.changed.filter((c) => c.action === "replace");
    const updated = diff.changed.filter((c) => c.action === "update");
    if (replaced.length > 0) lines.push("", "### To replace", ...replaced.flatMap(changedLines));
    if (updated.length > 0) lines.push("", "### To update", ...updated.flatMap(changedLines));
    lines.push(...listed("To add", "+", diff.added), ...listed("To remove", "-", diff.removed));
    if (diff.outputs.length > 0) lines.push("", "### Outputs", "", ...diff.outputs.flatMap(changeLines));
    return lines.join("\n") + "\n";
}
