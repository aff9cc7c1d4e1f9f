// Just enough of PgBouncer's ini dialect to know the effective pool modes: full-line comments
// start with ';' or '#', keys and section names are case-insensitive, a later key wins.

/** Pool mode PgBouncer uses when [pgbouncer] does not set one. */
export const DEFAULT_POOL_MODE = "session";

type Sections = Map<string, Map<string, string>>;

function parseSections(text: string): Sections {
    const sections: Sections = new Map();
    let current: Map<string, string> | undefined;
    for (const rawLine of text.split(/\r?\n/)) {
        const line = rawLine.trim();
        if (line === "" || line.startsWith(";") || line.startsWith("#")) {
            continue;
        }
        const header = /^\[([^\]]+)\]$/.exec(line);
        if (header) {
            const name = (header[1] as string).trim().toLowerCase();
            current = sections.get(name) ?? new Map<string, string>();
            sections.set(name, current);
            continue;
        }
        const separator = line.indexOf("=");
        if (current && separator > 0) {
            current.set(line.slice(0, separator).trim().toLowerCase(), line.slice(separator + 1).trim());
        }
    }
    return sections;
}

/** One place that decides a pool mode: the [pgbouncer] default or a per-database / per-user override. */
export interface PoolModeSetting {
    /** e.g. "[pgbouncer] pool_mode" or "[databases] deltacrown_receiver". */
    readonly where: string;
    /** Lower-cased mode; the PgBouncer default when [pgbouncer] sets none. */
    readonly mode: string;
    /** False when the mode is PgBouncer's default rather than written in the file. */
    readonly explicit: boolean;
}

const unquote = (value: string) =>
    value
        .replace(/^'(.*)'$/, "$1")
        .trim()
        .toLowerCase();
/** pool_mode inside a [databases] connection string or a [users] entry: "host=... pool_mode=session". */
const INLINE_POOL_MODE = /(?:^|\s)pool_mode\s*=\s*('[^']*'|\S+)/i;

/** Every pool mode the file sets, so an override in [databases] or [users] cannot slip past. */
export function poolModeSettings(text: string): PoolModeSetting[] {
    const sections = parseSections(text);
    const globalMode = sections.get("pgbouncer")?.get("pool_mode");
    const settings: PoolModeSetting[] = [
        {
            where: "[pgbouncer] pool_mode",
            mode: globalMode === undefined ? DEFAULT_POOL_MODE : unquote(globalMode),
            explicit: globalMode !== undefined,
        },
    ];
    for (const section of ["databases", "users"]) {
        for (const [name, value] of sections.get(section) ?? []) {
            const inline = INLINE_POOL_MODE.exec(value);
            if (inline) {
                settings.push({ where: `[${section}] ${name}`, mode: unquote(inline[1] as string), explicit: true });
            }
        }
    }
    return settings;
}

/** PgBouncer's %include pulls in a file the policy cannot see. */
export function includesOtherFiles(text: string): boolean {
    return /^\s*%include\b/im.test(text);
}
