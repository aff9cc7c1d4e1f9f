/** One preflight finding: what was checked and what it found; `ok: false` means `pulumi up` would fail there. */
export interface Check {
    readonly ok: boolean;
    readonly line: string;
}

export const pass = (line: string): Check => ({ ok: true, line });
export const fail = (line: string): Check => ({ ok: false, line });

/** The message of whatever a client threw. */
export function reason(err: unknown): string {
    if (err instanceof Error) return `${err.name !== "Error" ? `${err.name}: ` : ""}${err.message}`;
    return String(err);
}

export function formatChecks(checks: readonly Check[]): string {
    return checks.map((c) => `${c.ok ? "ok  " : "FAIL"} ${c.line}`).join("\n") + "\n";
}
