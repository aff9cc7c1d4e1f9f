import { iniSections } from "../components/render/iniParser";

// Reads pgbouncer.ini with the project's one ini parser (case-insensitive names, a later key wins)
// to know the effective pool modes.

/** Pool mode PgBouncer uses when [pgbouncer] does not set one. */
export const DEFAULT_POOL_MODE = "session";

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
    const sections = iniSections(text);
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
