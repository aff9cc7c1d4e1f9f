import { CONFIG_NAMESPACE, StackSecrets } from "../../../components/schema/schema";
import { readStackFile } from "../../../components/config/stackFile";
import type { ProgramRun } from "../../../offline/mockEngine";
import { engineConfig, SECRET_CONFIG_KEYS } from "../../../offline/stackConfig";
import { PROJECT_DIR } from "../support/projectDir";
import { TEST_SECRETS } from "../../../harness/testSecrets";

/** Passwords the tests hand the program (the shared test passwords and an admin one); none may appear outside a secret. */
export const PROGRAM_SECRETS: StackSecrets = { ...TEST_SECRETS, postgresAdminPassword: "admin-test-password" };

/** A stack file's config with `edit` applied to a copy of its project keys (namespace stripped, as in the stack file). */
function editedConfig(all: Record<string, unknown>, edit: (raw: Record<string, any>) => void): Record<string, unknown> {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const raw: Record<string, unknown> = {};
    const others: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(structuredClone(all))) {
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
        else others[key] = value;
    }
    edit(raw);
    return { ...others, ...Object.fromEntries(Object.entries(raw).map(([key, value]) => [prefix + key, value])) };
}

/**
 * Runs index.ts under the mocked engine (the same engine as `npm run plan`) for one stack,
 * with `edit` applied to the stack file's project keys. Call vi.resetModules() before a second run.
 */
export async function runProgram(stack: string, edit?: (raw: Record<string, any>) => void): Promise<ProgramRun> {
    const all = readStackFile(PROJECT_DIR, stack).all;
    const config = engineConfig(edit ? editedConfig(all, edit) : all, PROGRAM_SECRETS);
    // The SDK loads with the engine, so files that only read a shared run never load it.
    const { runUnderMocks } = await import("../../../offline/mockEngine");
    return runUnderMocks("receiver-tier", stack, config, SECRET_CONFIG_KEYS, () => import("../../../index"));
}
