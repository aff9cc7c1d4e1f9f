import { gunzipSync } from "zlib";

// User data reaches the policy as text, base64 (LaunchTemplate, userDataBase64) or base64 of gzip,
// and cloud-init can nest further base64/gzip payloads (write_files `encoding: b64 | gz+b64`,
// MIME parts). Every readable layer is checked, so an encoding step cannot hide a secret.

const GZIP_MAGIC = [0x1f, 0x8b];
/** Nesting deeper than this is not something our renderers or cloud-init produce. */
const MAX_NESTING = 3;
/** Shorter runs are ordinary words; a base64 payload worth hiding a secret in is longer. */
const MIN_BASE64_LENGTH = 24;
/** Base64 blocks, possibly wrapped over several lines as MIME and `base64` print them. */
const BASE64_BLOCK = /[A-Za-z0-9+/]{4,}(?:\r?\n[A-Za-z0-9+/]{4,})*={0,2}/g;
/** Control characters other than tab/newline/carriage return, or U+FFFD from invalid UTF-8. */
const NOT_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffd]/;

function isGzip(bytes: Buffer): boolean {
    return bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/** Text behind a base64 payload (gunzipped when it is gzip), or undefined when it is not text. */
function decodeBase64Text(payload: string): string | undefined {
    let bytes = Buffer.from(payload.replace(/\s+/g, ""), "base64");
    if (isGzip(bytes)) {
        try {
            bytes = gunzipSync(bytes);
        } catch {
            return undefined;
        }
    }
    const text = bytes.toString("utf8");
    return text.length > 0 && !NOT_TEXT.test(text) ? text : undefined;
}

/** The text itself plus every text layer reachable by base64/gzip decoding inside it. */
export function readableLayers(text: string, depth = 0): string[] {
    if (depth >= MAX_NESTING) {
        return [text];
    }
    const nested = (text.match(BASE64_BLOCK) ?? [])
        .filter((block) => block.replace(/\s+/g, "").length >= MIN_BASE64_LENGTH)
        .map(decodeBase64Text)
        .filter((decoded): decoded is string => decoded !== undefined)
        .flatMap((decoded) => readableLayers(decoded, depth + 1));
    return [text, ...nested];
}

/** `DB_PASSWORD=...`, `password = ...` (not `==`), capturing the quoted or bare value. */
const PASSWORD_ASSIGNMENT = /\b[A-Za-z_]*password[ \t]*=(?!=)[ \t]*("[^"\n]*"|'[^'\n]*'|[^\s;#,)]*)/gi;
/** A value taken from elsewhere at run time: $VAR, $(cmd), ${VAR}, {{ jinja }}. */
const REFERENCE = /^(\$|\{\{)/;
/** Unquoted code rather than a word: settings.db_password, os.getenv(...), os.environ[...]. */
const CODE_EXPRESSION = /^[A-Za-z_][\w.]*[([]|^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$/;
/** SQL `PASSWORD 'secret'` as in CREATE/ALTER ROLE run from a boot script. */
const SQL_PASSWORD_LITERAL = /\bpassword\s+'[^'\n]+'/i;

/** True when an assigned value is written down rather than looked up: "s3cret", 's3cret', s3cret. */
function isLiteral(assigned: string): boolean {
    const quoted = /^(["'])(.*)\1$/.exec(assigned);
    const value = (quoted ? (quoted[2] as string) : assigned).trim();
    if (value === "" || REFERENCE.test(value)) {
        return false;
    }
    return quoted !== null || !CODE_EXPRESSION.test(value);
}

function hasLiteralPasswordAssignment(text: string): boolean {
    const assigned = [...text.matchAll(PASSWORD_ASSIGNMENT)].map((match) => match[1] as string);
    return assigned.some(isLiteral) || SQL_PASSWORD_LITERAL.test(text);
}

/** `"user" "secret"` at a line start or inside a quoted echo; `"$user" "$pass"` placeholders are not secrets. */
const USERLIST_ENTRY = /(?:^|[\s'])"[\w.@-]+"[ \t]+"[^"$\n][^"\n]*"/m;

const SECRET_CHECKS: readonly { what: string; found: (text: string) => boolean }[] = [
    { what: "an md5 password secret (md5 + 32 hex digits)", found: (text) => /\bmd5[0-9a-f]{32}\b/i.test(text) },
    { what: "a SCRAM-SHA-256 verifier", found: (text) => text.includes("SCRAM-SHA-256$") },
    { what: 'a PgBouncer userlist line ("name" "secret")', found: (text) => USERLIST_ENTRY.test(text) },
    { what: "a password assignment with a literal value", found: hasLiteralPasswordAssignment },
];

/** Descriptions of the kinds of secret found in user data, in any of its encodings. Never the secret itself. */
export function secretsInUserData(userData: string): string[] {
    const layers = readableLayers(userData);
    return SECRET_CHECKS.filter((check) => layers.some(check.found)).map((check) => check.what);
}
