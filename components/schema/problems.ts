import { CONFIG_NAMESPACE } from "./schema";

/** One finding about a stack's config, named by its key path. */
export interface Problem {
    readonly path: string;
    readonly message: string;
    readonly severity: "error" | "warning";
}

export function configKey(path: readonly (string | number | symbol)[]): string {
    const [top, ...rest] = path.map((part) => (typeof part === "number" ? `[${part}]` : String(part)));
    const tail = rest.map((part) => (part.startsWith("[") ? part : `.${part}`)).join("");
    return `${CONFIG_NAMESPACE}:${top ?? ""}${tail}`;
}

export function formatProblems(problems: readonly Problem[]): string {
    return problems.map((p) => `  ${p.severity}: ${p.path}: ${p.message}`).join("\n");
}

/** Thrown when a stack's config cannot be deployed; lists every problem at once. */
export class ConfigError extends Error {
    /** `skippedRules`: cross-field rules not run because they read a key that has an error. */
    constructor(
        readonly problems: readonly Problem[],
        readonly skippedRules = 0,
    ) {
        const skipped =
            skippedRules > 0
                ? `\n  (${skippedRules} cross-field rule${skippedRules === 1 ? "" : "s"} not checked: they read a key with an error)`
                : "";
        super(
            `invalid receiver-tier config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${formatProblems(problems)}${skipped}`,
        );
        this.name = "ConfigError";
    }
}
