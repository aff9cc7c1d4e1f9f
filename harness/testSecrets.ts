import type { TierSecrets } from "../components/schema/schema";

/**
 * Passwords for throwaway tiers and for rendering in tests; a stack's own secrets are never used.
 * The integration harness and the unit tests share them. Each is at least 16 characters, so an aws
 * stack accepts them too; the unit tests' md5 answers for them were computed with python3 hashlib.
 */
export const TEST_SECRETS: TierSecrets = {
    receiverPasswordA: "receiver-test-password",
    receiverPasswordB: "receiver-b-test-password",
    statsPasswordA: "stats-test-password",
    statsPasswordB: "stats-b-test-password",
    monitorPassword: "monitor-test-password",
    webhookSigningSecret: "signing-test-secret",
};
