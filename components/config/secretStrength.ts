import { Problem } from "../schema/problems";
import { CONFIG_NAMESPACE, TierConfig } from "../schema/schema";

/** Shortest password a shared (aws) stack accepts; the local docker stack's throwaway passwords are exempt. */
export const MIN_PASSWORD_LENGTH = 16;

/** One error per secret too short for the platform; names the key and length, never the value. */
export function weakSecretProblems(platform: TierConfig["platform"], secrets: Readonly<Record<string, string | undefined>>): Problem[] {
    if (platform === "docker") return [];
    return Object.entries(secrets)
        .filter((entry): entry is [string, string] => typeof entry[1] === "string" && entry[1].length < MIN_PASSWORD_LENGTH)
        .map(([key, value]) => ({
            path: `${CONFIG_NAMESPACE}:${key}`,
            message: `is ${value.length} characters; platform ${platform} needs at least ${MIN_PASSWORD_LENGTH} (only the local docker stack is exempt)`,
            severity: "error" as const,
        }));
}
