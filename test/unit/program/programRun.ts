import * as path from "path";
import { SecretKey } from "../../../components/config/schema";
import { readStackFile } from "../../../components/config/stackFile";
import { ProgramRun, runUnderMocks } from "../../../scripts/plan/mockEngine";
import { engineConfig, SECRET_CONFIG_KEYS } from "../../../scripts/plan/stackConfig";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..", "..");

/** Passwords the tests hand the program; none may appear outside a secret. */
export const TEST_SECRETS: Record<SecretKey, string> = {
    receiverPasswordA: "test-receiver-password-1",
    receiverPasswordB: "test-receiver-password-5",
    statsPasswordA: "test-stats-password-2",
    statsPasswordB: "test-stats-password-6",
    monitorPassword: "test-monitor-password-3",
    webhookSigningSecret: "test-signing-secret-5",
    postgresAdminPassword: "test-admin-password-4",
};

/**
 * Runs index.ts under the mocked engine (the same engine as `npm run plan`) for one stack,
 * with `edit` applied to the stack file's project keys. Call vi.resetModules() before a second run.
 */
export function runProgram(stack: string, edit?: (raw: Record<string, any>) => void): Promise<ProgramRun> {
    const config = engineConfig(readStackFile(PROJECT_DIR, stack).all, TEST_SECRETS, edit);
    return runUnderMocks("receiver-tier", stack, config, SECRET_CONFIG_KEYS, () => import("../../../index"));
}
