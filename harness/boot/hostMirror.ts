import * as fs from "fs";
import * as path from "path";

// The Debian archive this machine's own apt uses, read at run time: the harness never names a
// mirror itself, so the hosts install from whatever this machine is configured for.

/** One `deb` source: archive URI and suites (components: main only, as the hosts need). */
export interface AptSource {
    readonly uri: string;
    readonly suites: readonly string[];
}

/** Sources of a deb822 .sources file (Types: deb only). */
export function parseDeb822Sources(text: string): AptSource[] {
    return text
        .split(/\n\s*\n/)
        .map((stanza) => {
            const fields = new Map<string, string>();
            for (const line of stanza.split("\n")) {
                const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
                if (match) fields.set((match[1] as string).toLowerCase(), (match[2] as string).trim());
            }
            return fields;
        })
        .filter((f) => (f.get("types") ?? "").split(/\s+/).includes("deb") && f.get("enabled") !== "no")
        .flatMap((f) =>
            (f.get("uris") ?? "")
                .split(/\s+/)
                .filter(Boolean)
                .map((uri) => ({ uri, suites: (f.get("suites") ?? "").split(/\s+/).filter(Boolean) })),
        );
}

/** Sources of a one-line sources.list (`deb [options] uri suite components`). */
export function parseOneLineSources(text: string): AptSource[] {
    return text
        .split("\n")
        .map((line) => line.replace(/#.*/, "").trim())
        .filter((line) => line.startsWith("deb "))
        .map((line) => line.replace(/\[[^\]]*\]\s*/, "").split(/\s+/))
        .map(([, uri, suite]) => ({ uri: uri as string, suites: [suite as string] }));
}

/** The host's Debian 12 sources (suites bookworm*), merged per URI. Throws when there is none. */
export function hostDebianSources(aptDir = "/etc/apt"): AptSource[] {
    const found: AptSource[] = [];
    const list = path.join(aptDir, "sources.list");
    if (fs.existsSync(list)) found.push(...parseOneLineSources(fs.readFileSync(list, "utf8")));
    const dir = path.join(aptDir, "sources.list.d");
    for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
        const text = fs.readFileSync(path.join(dir, entry), "utf8");
        if (entry.endsWith(".sources")) found.push(...parseDeb822Sources(text));
        else if (entry.endsWith(".list")) found.push(...parseOneLineSources(text));
    }
    const merged = new Map<string, Set<string>>();
    for (const source of found) {
        const suites = source.suites.filter((s) => /^bookworm(-|$)/.test(s));
        if (suites.length === 0 || !/^https?:\/\//.test(source.uri)) continue;
        const uri = source.uri.replace(/\/+$/, "");
        merged.set(uri, new Set([...(merged.get(uri) ?? []), ...suites]));
    }
    const sources = [...merged].map(([uri, suites]) => ({ uri, suites: [...suites] }));
    if (!sources.some((s) => s.suites.includes("bookworm"))) {
        throw new Error(
            `no Debian 12 (bookworm) archive in ${aptDir}/sources.list*: the boot harness installs from the one this machine uses`,
        );
    }
    return sources;
}

/** The archive debootstrap builds from: the source carrying the bookworm suite itself. */
export function primaryArchive(sources: readonly AptSource[]): string {
    const primary = sources.find((s) => s.suites.includes("bookworm"));
    if (primary === undefined) throw new Error("no bookworm source");
    return primary.uri;
}

/** sources.list for a host root: the same archives, main only. */
export function renderSourcesList(sources: readonly AptSource[]): string {
    return sources.flatMap((s) => s.suites.map((suite) => `deb ${s.uri} ${suite} main`)).join("\n") + "\n";
}

/** Host names apt may reach through the harness's proxy: exactly the archives' hosts. */
export function archiveHosts(sources: readonly AptSource[]): string[] {
    return [...new Set(sources.map((s) => new URL(s.uri).host))];
}
