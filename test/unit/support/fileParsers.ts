// Tiny readers for the rendered files, so tests assert values rather than whole texts.
// Each refuses what it cannot read: a malformed line fails the test instead of being skipped.
import { createHash, createHmac, pbkdf2Sync } from "crypto";
import { iniLines } from "../../../components/render/iniParser";

function contentLines(text: string, commentPrefixes: readonly string[]): { line: string; number: number }[] {
    return text
        .split("\n")
        .map((line, index) => ({ line: line.trim(), number: index + 1 }))
        .filter(({ line }) => line !== "" && !commentPrefixes.some((prefix) => line.startsWith(prefix)));
}

/**
 * An ini file as section -> key -> raw value text, read by the project's one ini parser and held
 * to what the renderer writes: repeated sections or keys and unreadable lines are errors.
 */
export function parseIni(text: string): Record<string, Record<string, string>> {
    const sections: Record<string, Record<string, string>> = {};
    for (const line of iniLines(text)) {
        if (line.kind === "section") {
            if (line.name in sections) throw new Error(`ini line ${line.number}: section [${line.name}] repeated`);
            sections[line.name] = {};
            continue;
        }
        const current = line.kind === "entry" && line.section !== undefined ? sections[line.section] : undefined;
        if (line.kind === "other" || !current || /\s/.test(line.key)) {
            throw new Error(`ini line ${line.number}: cannot read ${JSON.stringify(text.split(/\r?\n/)[line.number - 1]?.trim())}`);
        }
        if (line.key in current) throw new Error(`ini line ${line.number}: key ${line.key} repeated`);
        current[line.key] = line.value;
    }
    return sections;
}

/** One section of an ini file; fails when it is absent. */
export function iniSection(text: string, name: string): Record<string, string> {
    const section = parseIni(text)[name];
    if (!section) throw new Error(`no [${name}] section`);
    return section;
}

export type PythonLiteral = string | number | boolean;

function pythonLiteral(text: string): PythonLiteral {
    if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
    if (text === "True" || text === "False") return text === "True";
    if (/^"(?:[^"\\]|\\.)*"$/.test(text)) return JSON.parse(text) as string;
    if (/^'[^'\\]*'$/.test(text)) return text.slice(1, -1);
    throw new Error(`not a simple Python literal: ${text}`);
}

/** A Python file made of `name = literal` lines (and comments) as name -> value. */
export function parsePythonAssignments(text: string): Record<string, PythonLiteral> {
    const values: Record<string, PythonLiteral> = {};
    for (const { line, number } of contentLines(text, ["#"])) {
        const assignment = /^([A-Za-z_]\w*) = (.+)$/.exec(line);
        if (!assignment) throw new Error(`python line ${number}: not \`name = literal\`: ${JSON.stringify(line)}`);
        const name = assignment[1] as string;
        if (name in values) throw new Error(`python line ${number}: ${name} assigned twice`);
        values[name] = pythonLiteral(assignment[2] as string);
    }
    return values;
}

// Undoes POSIX single quoting ('it'"'"'s' -> it's); bare values are taken as they are.
function shellWord(text: string): string {
    if (!text.startsWith("'")) return text;
    if (!/^'[^']*'(?:"'"'[^']*')*$/.test(text)) throw new Error(`badly quoted value: ${text}`);
    return text.slice(1, -1).split(`'"'"'`).join("'");
}

/** An env file of `KEY=value` lines (values bare or single-quoted) as KEY -> value. */
export function parseEnvFile(text: string): Record<string, string> {
    const vars: Record<string, string> = {};
    for (const { line, number } of contentLines(text, ["#"])) {
        const pair = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
        if (!pair) throw new Error(`env line ${number}: not KEY=value: ${JSON.stringify(line)}`);
        const key = pair[1] as string;
        if (key in vars) throw new Error(`env line ${number}: ${key} set twice`);
        vars[key] = shellWord(pair[2] as string);
    }
    return vars;
}

/** PgBouncer's auth_file: every line must be `"user" "secret"`. */
export function parseUserlist(text: string): Map<string, string> {
    const users = new Map<string, string>();
    for (const { line, number } of contentLines(text, [";"])) {
        const entry = /^"([^"]+)" "([^"]+)"$/.exec(line);
        if (!entry) throw new Error(`userlist line ${number}: not "user" "secret": ${JSON.stringify(line)}`);
        users.set(entry[1] as string, entry[2] as string);
    }
    return users;
}

export interface ScramVerifier {
    readonly iterations: number;
    readonly salt: Buffer;
    readonly storedKey: Buffer;
    readonly serverKey: Buffer;
}

/** Splits PostgreSQL's stored SCRAM form `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`. */
export function parseScramVerifier(verifier: string): ScramVerifier {
    const parts = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(verifier);
    if (!parts) throw new Error(`not a SCRAM-SHA-256 verifier: ${verifier}`);
    return {
        iterations: Number(parts[1]),
        salt: Buffer.from(parts[2] as string, "base64"),
        storedKey: Buffer.from(parts[3] as string, "base64"),
        serverKey: Buffer.from(parts[4] as string, "base64"),
    };
}

/**
 * True when `verifier` proves `password` (RFC 5802 section 3), recomputed here from the verifier's
 * own salt and iteration count, the way a server checks a login.
 */
export function scramVerifierAccepts(verifier: string, password: string): boolean {
    const v = parseScramVerifier(verifier);
    const salted = pbkdf2Sync(password, v.salt, v.iterations, 32, "sha256");
    const storedKey = createHash("sha256").update(createHmac("sha256", salted).update("Client Key").digest()).digest();
    const serverKey = createHmac("sha256", salted).update("Server Key").digest();
    return storedKey.equals(v.storedKey) && serverKey.equals(v.serverKey);
}
