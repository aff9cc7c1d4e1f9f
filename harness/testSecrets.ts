import type { TierSecrets } from "../components/schema/schema";
import { md5Secret } from "../components/model/authSecrets";

/** The hand-made canary's `webhook_receiver` password in tests (the cutover rehearsal logs in with it). */
export const LEGACY_RECEIVER_TEST_PASSWORD = "legacy-receiver-test-password";

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
    pgbouncerAdminPasswordA: "pgbouncer-admin-test-password",
    pgbouncerAdminPasswordB: "pgbouncer-admin-b-test-password",
    monitorPassword: "monitor-test-password",
    webhookSigningSecret: "signing-test-secret",
    // As the hand-made userlist.txt holds it: what the cutover block's stack file needs.
    legacyReceiverSecret: md5Secret("webhook_receiver", LEGACY_RECEIVER_TEST_PASSWORD),
};
