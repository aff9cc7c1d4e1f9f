// IAM policy evaluation for the stand-in AWS: default deny, an explicit Deny wins, an Allow needs a
// matching action, resource and every condition. Actions match case-insensitively, resources
// case-sensitively, both with `*` and `?` wildcards, as IAM does. A condition operator or key this
// evaluator does not know never matches, so an unexpected policy fails closed, not open.

export interface PolicyStatement {
    readonly Effect: "Allow" | "Deny";
    readonly Action?: string | string[];
    readonly NotAction?: string | string[];
    readonly Resource?: string | string[];
    readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
    readonly Version?: string;
    readonly Statement: PolicyStatement | PolicyStatement[];
}

/** One API call as IAM sees it. */
export interface AuthorizationRequest {
    /** `service:Action`, e.g. ssm:GetParameter. */
    readonly action: string;
    /** The resource ARN, or "*" for actions without resource-level permissions. */
    readonly resource: string;
    /** Condition keys of the request (e.g. cloudwatch:namespace, autoscaling:ResourceTag/<key>). */
    readonly context: Readonly<Record<string, string>>;
}

export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** IAM's wildcard match: `*` any run of characters, `?` exactly one. */
export function wildcardMatch(pattern: string, value: string, caseInsensitive = false): boolean {
    const escaped = pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".");
    return new RegExp(`^${escaped}$`, caseInsensitive ? "is" : "s").test(value);
}

function conditionHolds(operator: string, key: string, expected: string[], context: Readonly<Record<string, string>>): boolean {
    // Keys are case-insensitive in IAM.
    const found = Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
    if (found === undefined) return false;
    switch (operator) {
        case "StringEquals":
            return expected.includes(found);
        case "StringLike":
            return expected.some((pattern) => wildcardMatch(pattern, found));
        case "StringEqualsIgnoreCase":
            return expected.some((e) => e.toLowerCase() === found.toLowerCase());
        default:
            return false;
    }
}

function statementApplies(statement: PolicyStatement, request: AuthorizationRequest): boolean {
    const actionMatches =
        statement.NotAction !== undefined
            ? !list(statement.NotAction).some((a) => wildcardMatch(a, request.action, true))
            : list(statement.Action).some((a) => wildcardMatch(a, request.action, true));
    if (!actionMatches) return false;
    // A call without resource-level permissions is authorized against "*" only.
    const resources = list(statement.Resource);
    const resourceMatches = resources.some((r) => (request.resource === "*" ? r === "*" : wildcardMatch(r, request.resource)));
    if (!resourceMatches) return false;
    return Object.entries(statement.Condition ?? {}).every(([operator, entries]) =>
        Object.entries(entries).every(([key, value]) => conditionHolds(operator, key, list(value), request.context)),
    );
}

/** Whether the policy allows the request. */
export function evaluatePolicy(policy: PolicyDocument, request: AuthorizationRequest): Decision {
    const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
    const applying = statements.filter((s) => statementApplies(s, request));
    if (applying.some((s) => s.Effect === "Deny")) return { allowed: false, reason: "explicit deny in the instance policy" };
    if (applying.some((s) => s.Effect === "Allow")) return { allowed: true };
    return { allowed: false, reason: "no identity-based policy allows the action" };
}
