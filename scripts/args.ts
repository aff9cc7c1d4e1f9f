import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { PROJECT_DIR } from "../runtime/projectDir";
import { closest } from "../components/schema/spelling";

// One argument layer for every command: Node's strict parseArgs, typed values, --help, exit codes.

/** A command line the command cannot run with; exits 2. */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

/** One option: how it is shown in --help and how its raw value becomes a typed one. */
export interface Option<T> {
    readonly type: "string" | "boolean";
    /** Placeholder in --help, e.g. `<dir>`. */
    readonly valueName?: string;
    readonly description: string;
    /** "(required)" or "(default: ...)" in --help. */
    readonly note?: string;
    readonly read: (raw: string | boolean | undefined, flag: string) => T;
}

/** Turns an option's text into a typed value or throws a UsageError naming the flag. */
export type Parser<T> = (text: string, flag: string) => T;

export const text: Parser<string> = (value, flag) => {
    if (value === "") throw new UsageError(`${flag} must not be empty`);
    return value;
};

export function flag(description: string): Option<boolean> {
    return { type: "boolean", description, read: (raw) => raw === true };
}

export function optional<T>(valueName: string, description: string, parse: Parser<T>): Option<T | undefined> {
    return { type: "string", valueName, description, read: (raw, name) => (typeof raw === "string" ? parse(raw, name) : undefined) };
}

export function required<T>(valueName: string, description: string, parse: Parser<T>): Option<T> {
    return {
        type: "string",
        valueName,
        description,
        note: "required",
        read: (raw, name) => {
            if (typeof raw !== "string") throw new UsageError(`missing ${name} ${valueName}`);
            return parse(raw, name);
        },
    };
}

/** An option with a default; `shownDefault` is what --help prints when the default is computed (a path). */
export function withDefault<T>(
    valueName: string,
    description: string,
    parse: Parser<T>,
    fallback: string,
    shownDefault = fallback,
): Option<T> {
    return {
        type: "string",
        valueName,
        description,
        note: `default: ${shownDefault}`,
        read: (raw, name) => parse(typeof raw === "string" ? raw : fallback, name),
    };
}

export function oneOf<const V extends string>(values: readonly V[]): Parser<V> {
    return (value, name) => {
        if ((values as readonly string[]).includes(value)) return value as V;
        throw new UsageError(`${name} must be one of ${values.join(", ")} (got ${JSON.stringify(value)}${suggestion(value, values)})`);
    };
}

export function integer(min: number, max: number): Parser<number> {
    return (value, name) => {
        const n = Number(value);
        if (!/^\d+$/.test(value) || n < min || n > max)
            throw new UsageError(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
        return n;
    };
}

export const port: Parser<number> = integer(1, 65535);

export const hostPort: Parser<{ host: string; port: number }> = (value, name) => {
    const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d+)$/.exec(value);
    if (!match) throw new UsageError(`${name} must be host:port, e.g. 127.0.0.1:6432 (got ${JSON.stringify(value)})`);
    return { host: (match[1] as string).replace(/^\[(.*)\]$/, "$1"), port: port(match[2] as string, `${name}'s port`) };
};

export const httpUrl: Parser<string> = (value, name) => {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        throw new UsageError(`${name} must be an http:// or https:// URL (got ${JSON.stringify(value)})`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
        throw new UsageError(`${name} must be an http:// or https:// URL (got ${url.protocol})`);
    return value;
};

export const existingDirectory: Parser<string> = (value, name) => {
    const dir = path.resolve(text(value, name));
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`${name} ${value} is not a directory`);
    return dir;
};

/** --project-dir: where the Pulumi.<stack>.yaml files are (the repository root unless told). */
export const projectDirOption = withDefault(
    "<dir>",
    "directory holding Pulumi.<name>.yaml",
    existingDirectory,
    PROJECT_DIR,
    "the repository root",
);

/** A directory to write into: it may not exist yet, but it must not be an empty path or a file. */
export const outputDirectory: Parser<string> = (value, name) => {
    if (value.trim() === "") throw new UsageError(`${name} must name a directory; an empty path would write into the current one`);
    const dir = path.resolve(value);
    if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new UsageError(`${name} ${value} exists and is not a directory`);
    return dir;
};

function suggestion(word: string, candidates: readonly string[]): string {
    const near = closest(word, candidates);
    return near === undefined ? "" : `; did you mean ${near}?`;
}

export type Options = Record<string, Option<unknown>>;
export type Values<O extends Options> = { [K in keyof O]: O[K] extends Option<infer T> ? T : never };

/** What a command accepts, for parsing and for --help. */
export interface CommandSpec<O extends Options> {
    /** The npm script name. */
    readonly name: string;
    readonly summary: string;
    readonly options: O;
    readonly examples: readonly string[];
    /** Exit codes beyond 0 (success) and 2 (usage), for --help. */
    readonly exitCodes?: readonly string[];
}

/** Where a command writes: results on stdout, diagnostics on stderr, progress only on a terminal. */
export interface Io {
    readonly stdout: (text: string) => void;
    readonly stderr: (text: string) => void;
    /** A progress line on stderr when stderr is a terminal; nothing otherwise. */
    readonly progress: (text: string) => void;
}

export interface Command<O extends Options> {
    readonly spec: CommandSpec<O>;
    /** Runs with valid options; returns the exit code. */
    readonly run: (values: Values<O>, io: Io) => Promise<number>;
    /** Exit code when `run` throws something other than a UsageError (default 1). */
    readonly errorExitCode?: number;
}

const HELP: Option<boolean> = flag("show this help");

export function helpText<O extends Options>(spec: CommandSpec<O>): string {
    const entries = Object.entries({ ...spec.options, help: HELP }).map(([name, option]) => {
        const left = `${name === "help" ? "-h, " : ""}--${name}${option.valueName ? ` ${option.valueName}` : ""}`;
        return [left, `${option.description}${option.note ? ` (${option.note})` : ""}`] as const;
    });
    const width = Math.max(...entries.map(([left]) => left.length)) + 2;
    return [
        `usage: npm run -s ${spec.name} -- [options]`,
        "",
        spec.summary,
        "",
        "options:",
        ...entries.map(([left, right]) => `  ${left.padEnd(width)}${right}`),
        "",
        spec.examples.length === 1 ? "example:" : "examples:",
        ...spec.examples.map((example) => `  ${example}`),
        "",
        "exit status:",
        "  0  success",
        ...(spec.exitCodes ?? ["1  failure"]).map((code) => `  ${code}`),
        "  2  usage error (unknown option, missing or invalid value)",
        "",
    ].join("\n");
}

/** The typed values of a command line, or "help"; throws UsageError. */
export function parseCommandLine<O extends Options>(spec: CommandSpec<O>, argv: readonly string[]): Values<O> | "help" {
    const names = [...Object.keys(spec.options), "help"];
    let parsed: ReturnType<typeof parseArgs>;
    try {
        parsed = parseArgs({
            args: [...argv],
            strict: true,
            allowPositionals: false,
            options: {
                ...Object.fromEntries(Object.entries(spec.options).map(([name, option]) => [name, { type: option.type }])),
                help: { type: "boolean", short: "h" },
            },
        });
    } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const unknown = /Unknown option '(-{1,2})([^']+)'/.exec(message);
        if (unknown) {
            const near = closest(unknown[2] as string, names);
            throw new UsageError(`unknown option ${unknown[1]}${unknown[2]}${near === undefined ? "" : `; did you mean --${near}?`}`);
        }
        throw new UsageError(message.split(". To specify")[0] as string);
    }
    if (parsed.values.help === true) return "help";
    const values: Record<string, unknown> = {};
    for (const [name, option] of Object.entries(spec.options)) {
        values[name] = option.read(parsed.values[name] as string | boolean | undefined, `--${name}`);
    }
    return values as Values<O>;
}

/** Parses, prints help or a usage error, runs the command; resolves to the exit code. */
export async function runCommand<O extends Options>(command: Command<O>, argv: readonly string[], io: Io): Promise<number> {
    const { spec } = command;
    try {
        const values = parseCommandLine(spec, argv);
        if (values === "help") {
            io.stdout(helpText(spec));
            return 0;
        }
        return await command.run(values, io);
    } catch (err) {
        if (err instanceof UsageError) {
            io.stderr(`${spec.name}: ${err.message}\nevery option: npm run -s ${spec.name} -- --help\n`);
            return 2;
        }
        io.stderr(`${spec.name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
        return command.errorExitCode ?? 1;
    }
}

export function processIo(): Io {
    return {
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
        progress: (text) => {
            if (process.stderr.isTTY) process.stderr.write(`${text}\n`);
        },
    };
}

/**
 * Exits once stdout and stderr have flushed: writes to a pipe are asynchronous, and exiting at once
 * cut a plan piped into another program at 64 KiB.
 */
function exitAfterFlush(code: number): void {
    process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

/** The entry point of a command's script: run it with this process's arguments and exit with its code. */
export function main<O extends Options>(command: Command<O>): void {
    runCommand(command, process.argv.slice(2), processIo()).then(exitAfterFlush, (err: unknown) => {
        process.stderr.write(`${command.spec.name} failed: ${String(err)}\n`);
        exitAfterFlush(1);
    });
}

/** Declares a command; its options' types flow into `run`. */
export function command<O extends Options>(definition: Command<O>): Command<O> {
    return definition;
}
