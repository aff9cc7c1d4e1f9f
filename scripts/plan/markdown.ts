import { Plan, PlannedResource } from "./describe";
import { InputChange, PlanDiff } from "./diff";
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

export function planMarkdown(plan: Plan): string {
    const lines = [
        `## receiver-tier plan: stack \`${plan.stack}\``,
        "",
        `${plan.resources.length} resources, from the program run under the mocked engine. Secrets show as \`[secret]\`; cloud-computed values as \`<... of name>\`.`,
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

export function diffMarkdown(diff: PlanDiff): string {
    const counts = `${diff.changed.length} changed, ${diff.added.length} added, ${diff.removed.length} removed`;
    const lines = [COMMENT_MARKER, `## receiver-tier plan diff: stack \`${diff.stack}\` against \`${diff.base}\``, "", counts];
    if (diff.changed.length + diff.added.length + diff.removed.length + diff.outputs.length === 0) {
        lines.push("", "No resource or output changes.");
    }
    if (diff.changed.length > 0) {
        lines.push("", "### Changed");
        for (const r of diff.changed) lines.push("", resourceHeading("~", r), "", ...r.changes.flatMap(changeLines));
    }
    lines.push(...listed("Added", "+", diff.added), ...listed("Removed", "-", diff.removed));
    if (diff.outputs.length > 0) lines.push("", "### Outputs", "", ...diff.outputs.flatMap(changeLines));
    return lines.join("\n") + "\n";
}
