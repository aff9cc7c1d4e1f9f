import { iniLines } from "./iniParser";

/**
 * The ini with every [databases] entry's host= and port= set to the new server, every other byte as it was.
 * Throws when an entry has no host= or port= to change, so a repoint can never silently miss one.
 */
export function repointDatabases(ini: string, host: string, port: number): string {
    const lines = ini.split("\n");
    let entries = 0;
    for (const entry of iniLines(ini)) {
        if (entry.kind !== "entry" || entry.section?.toLowerCase() !== "databases") continue;
        entries++;
        const line = lines[entry.number - 1] as string;
        const head = (/^[^=]*=\s*/.exec(line) as RegExpExecArray)[0];
        const value = line.slice(head.length);
        if (!/(^|\s)host=\S+/.test(value) || !/(^|\s)port=\S+/.test(value)) {
            throw new Error(`[databases] ${entry.key} has no host= and port= to repoint: ${line}`);
        }
        const repointed = value.replace(/(^|\s)host=\S+/, `$1host=${host}`).replace(/(^|\s)port=\S+/, `$1port=${port}`);
        lines[entry.number - 1] = `${head}${repointed}`;
    }
    if (entries === 0) throw new Error("pgbouncer.ini has no [databases] entry to repoint");
    return lines.join("\n");
}
