import { describe, expect, it } from "vitest";
import { SECRET_KEYS } from "../../../components/schema/schema";
import { md5Secret } from "../../../components/model/authSecrets";
import { isSecretValue, nonSecretStrings, plain, stackRun, PROGRAM_SECRETS } from "./mockTier";

// Every form a password takes in this tier: plain, md5 for each role name that uses it, and any
// SCRAM verifier (its salt depends on the stack's server).
const USERS: Record<string, string> = {
    webhook_receiver_a: PROGRAM_SECRETS.receiverPasswordA,
    webhook_receiver_b: PROGRAM_SECRETS.receiverPasswordB,
    pgbouncer_stats_a: PROGRAM_SECRETS.statsPasswordA,
    pgbouncer_stats_b: PROGRAM_SECRETS.statsPasswordB,
    pgbouncer_admin_a: PROGRAM_SECRETS.pgbouncerAdminPasswordA,
    pgbouncer_admin_b: PROGRAM_SECRETS.pgbouncerAdminPasswordB,
    receiver_monitor: PROGRAM_SECRETS.monitorPassword,
};
const forbidden = [
    ...SECRET_KEYS.map((key) => PROGRAM_SECRETS[key]),
    // The hand-made login's md5 secret during canary's cutover: a password equivalent for md5 logins.
    PROGRAM_SECRETS.legacyReceiverSecret as string,
    ...Object.entries(USERS).map(([user, password]) => md5Secret(user, password)),
];
const isForbidden = (text: string) => text.includes("SCRAM-SHA-256$") || forbidden.some((secret) => text.includes(secret));

describe.each(["canary", "prod", "local"] as const)("secrets in stack %s", (stack) => {
    it("never appear outside a Pulumi secret in any resource input or output", async () => {
        const run = stackRun(stack);
        const leaks = run.resources.flatMap((r) =>
            nonSecretStrings(r.inputs)
                .filter(([, text]) => isForbidden(text))
                .map(([path]) => `${r.type} ${r.name} ${path}`),
        );
        expect(leaks).toEqual([]);
        const outputs = JSON.stringify(run.outputs);
        expect(isForbidden(outputs)).toBe(false);
    });

    it("are used: the inputs that need them carry them as secrets", async () => {
        const run = stackRun(stack);
        const carriers = run.resources.filter((r) => isForbidden(JSON.stringify(plain(r.inputs))));
        expect(carriers.length).toBeGreaterThan(3);
        for (const resource of carriers) {
            const secretFields = Object.values(resource.inputs).filter(isSecretValue);
            expect(secretFields.length, `${resource.name} carries a secret`).toBeGreaterThan(0);
        }
    });
});
