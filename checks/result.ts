/**
 * One finding of preflight or verify: what was checked, whether it passed, and what was found (verify
 * names each runbook check and says what it saw; a preflight finding is one sentence, its name).
 * A failed preflight check means `pulumi up` would fail there.
 */
export interface Check {
    readonly name: string;
    readonly passed: boolean;
    readonly detail?: string;
}

export const pass = (name: string): Check => ({ name, passed: true });
export const fail = (name: string): Check => ({ name, passed: false });

/** The message of whatever a client threw. */
export function reason(err: unknown): string {
    if (err instanceof Error) return `${err.name !== "Error" ? `${err.name}: ` : ""}${err.message}`;
    return String(err);
}

export function formatChecks(checks: readonly Check[]): string {
    return checks.map((c) => `${c.passed ? "ok  " : "FAIL"} ${c.name}`).join("\n") + "\n";
}
