// The one reader of PgBouncer's ini dialect (pgbouncer.ini), shared by the policy pack, the local
// harness and the tests: full-line comments start with ';' or '#', a `[name]` line opens a
// section, every other line is `key = value`. No imports: the policy pack loads it as it is.

/** A line that is neither blank nor a comment, numbered from 1 as an editor shows it. */
export type IniLine =
    | { readonly kind: "section"; readonly number: number; readonly name: string }
    | {
          readonly kind: "entry";
          readonly number: number;
          /** The section it stands in; undefined before the first section header. */
          readonly section: string | undefined;
          readonly key: string;
          /** The text after '=', trimmed; quotes and inline `key=value` pairs are left as they are. */
          readonly value: string;
      }
    /** Neither a section header nor `key = value` (e.g. `%include`). */
    | { readonly kind: "other"; readonly number: number; readonly text: string };

/** Every meaningful line of an ini file, in order; names keep their case. */
export function iniLines(text: string): IniLine[] {
    const lines: IniLine[] = [];
    let section: string | undefined;
    text.split(/\r?\n/).forEach((rawLine, index) => {
        const line = rawLine.trim();
        const number = index + 1;
        if (line === "" || line.startsWith(";") || line.startsWith("#")) return;
        const header = /^\[([^\]]+)\]$/.exec(line);
        if (header) {
            section = (header[1] as string).trim();
            lines.push({ kind: "section", number, name: section });
            return;
        }
        const separator = line.indexOf("=");
        if (separator > 0) {
            lines.push({ kind: "entry", number, section, key: line.slice(0, separator).trim(), value: line.slice(separator + 1).trim() });
        } else {
            lines.push({ kind: "other", number, text: line });
        }
    });
    return lines;
}

/** Section -> key -> value as PgBouncer reads the file. */
export type IniSections = Map<string, Map<string, string>>;

/**
 * The file as PgBouncer reads it: section and key names case-insensitive (lower-cased here), a
 * later key wins, lines outside a section or not `key = value` are passed over.
 */
export function iniSections(text: string): IniSections {
    const sections: IniSections = new Map();
    for (const line of iniLines(text)) {
        if (line.kind === "section") {
            const name = line.name.toLowerCase();
            sections.set(name, sections.get(name) ?? new Map<string, string>());
        } else if (line.kind === "entry" && line.section !== undefined) {
            sections.get(line.section.toLowerCase())?.set(line.key.toLowerCase(), line.value);
        }
    }
    return sections;
}
