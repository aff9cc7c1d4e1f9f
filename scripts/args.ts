/** Reads `--name value` pairs; a bare `--flag` maps to "true". */
export function parseArgs(argv: readonly string[]): Map<string, string> {
    const args = new Map<string, string>();
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] as string;
        if (!arg.startsWith("--")) throw new Error(`unexpected argument ${arg}`);
        const next = argv[i + 1];
        if (next === undefined || next.startsWith("--")) {
            args.set(arg.slice(2), "true");
        } else {
            args.set(arg.slice(2), next);
            i++;
        }
    }
    return args;
}

export function requireArg(args: Map<string, string>, name: string, usage: string): string {
    const value = args.get(name);
    if (value === undefined || value === "true") {
        throw new Error(`missing --${name}\nusage: ${usage}`);
    }
    return value;
}
