import { describePlan, Plan } from "./describe";
import { runUnderMocks } from "./mockEngine";
import { planConfig, SECRET_CONFIG_KEYS } from "./stackConfig";

import { PROJECT_DIR } from "../runtime/projectDir";

/** Runs this checkout's index.ts under the mocked engine with a stack's config. Once per process. */
export async function planStack(stack: string, env: NodeJS.ProcessEnv): Promise<Plan> {
    const run = await runUnderMocks(
        "receiver-tier",
        stack,
        planConfig(PROJECT_DIR, stack, env),
        SECRET_CONFIG_KEYS,
        () => import("../index"),
    );
    return describePlan(stack, run);
}
