/** Leaf values of nested inputs by dotted path (`metadataOptions.httpTokens`, `ports[0].internal`). */
export function flatten(value: unknown, at = ""): [string, unknown][] {
    if (Array.isArray(value)) {
        return value.length === 0 ? [[at, []]] : value.flatMap((v, i) => flatten(v, `${at}[${i}]`));
    }
    if (typeof value === "object" && value !== null) {
        const entries = Object.entries(value);
        return entries.length === 0 ? [[at, {}]] : entries.flatMap(([k, v]) => flatten(v, at ? `${at}.${k}` : k));
    }
    return [[at, value]];
}

/** Line-level differences of two texts: " " kept, "-" removed, "+" added (longest common subsequence). */
export function lineDiff(before: string, after: string): [" " | "-" | "+", string][] {
    const a = before.split("\n");
    const b = after.split("\n");
    const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = a.length - 1; i >= 0; i--) {
        for (let j = b.length - 1; j >= 0; j--) {
            lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
        }
    }
    const out: [" " | "-" | "+", string][] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
        if (i < a.length && j < b.length && a[i] === b[j]) {
            out.push([" ", a[i++]!]);
            j++;
        } else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
            out.push(["-", a[i++]!]);
        } else {
            out.push(["+", b[j++]!]);
        }
    }
    return out;
}

/** Only the changed lines of a line diff, each with `context` unchanged lines around it. */
export function changedHunks(diff: [" " | "-" | "+", string][], context = 1): string[] {
    const keep = diff.map(([mark]) => mark !== " ");
    const near = diff.map((_, i) => keep.slice(Math.max(0, i - context), i + context + 1).some(Boolean));
    const lines: string[] = [];
    diff.forEach(([mark, text], i) => {
        if (near[i]) lines.push(`${mark}${text}`);
        else if (near[i - 1]) lines.push("@@");
    });
    return lines;
}
