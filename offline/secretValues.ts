// Secret values in resource inputs as the mocked engine records them; no Pulumi SDK here, so the
// tests and the plan can read a recorded run without loading it.

// The wire form of a secret value in resource inputs (see @pulumi/pulumi runtime/rpc).
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export function isSecretValue(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** A value with every secret replaced by `replace(secretValue)`. */
export function mapSecrets(value: unknown, replace: (secret: unknown) => unknown): unknown {
    if (isSecretValue(value)) return replace(value.value);
    if (Array.isArray(value)) return value.map((v) => mapSecrets(v, replace));
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapSecrets(v, replace)]));
    }
    return value;
}

/** The value with secrets revealed, for tests that assert on them. */
export function plain(value: unknown): unknown {
    return mapSecrets(value, (secret) => plain(secret));
}

/** Shown instead of a secret, in a resource input or a stack output. */
export const SECRET_MASK = "[secret]";
