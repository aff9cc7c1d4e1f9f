import { Problem } from "../schema/problems";
import { CONFIG_NAMESPACE } from "../schema/schema";
import { closest } from "../schema/spelling";

/**
 * Config namespaces the program reads: its own; `aws` (the region, and the default AWS provider's
 * credentials and settings); `docker` (the default Docker provider of the local stack); `pulumi`
 * (the engine's own keys such as `pulumi:tags`). The PostgreSQL provider is built from this
 * project's keys, so `postgresql:` keys would be ignored and count as unknown.
 */
export const KNOWN_NAMESPACES: readonly string[] = [CONFIG_NAMESPACE, "aws", "docker", "pulumi"];

/** One error per key whose namespace the program never reads: its value would be dropped silently. */
export function namespaceProblems(keys: readonly string[]): Problem[] {
    return keys.flatMap((key): Problem[] => {
        const colon = key.indexOf(":");
        if (colon < 0) {
            return [
                {
                    path: key,
                    message: `has no namespace, so nothing reads it; did you mean ${CONFIG_NAMESPACE}:${key}?`,
                    severity: "error",
                },
            ];
        }
        const namespace = key.slice(0, colon);
        if (KNOWN_NAMESPACES.includes(namespace)) return [];
        const near = closest(namespace, KNOWN_NAMESPACES) as string;
        return [
            {
                path: key,
                message: `unknown namespace "${namespace}", so nothing reads this key; did you mean ${near}:${key.slice(colon + 1)}? (known namespaces: ${KNOWN_NAMESPACES.join(", ")})`,
                severity: "error",
            },
        ];
    });
}
