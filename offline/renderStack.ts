import { LoadedConfig } from "../components/config/load";
import { renderTierFiles, TierFiles } from "../components/render/tierFiles";
import { loadStackConfig, readStackFile, readTierSecrets } from "../components/config/stackFile";
import { configPolicyResources, policyViolations, PolicyViolation } from "../policy/offline";

/** Validates a stack's file and renders all six files, in memory, with the policy pack's config-level findings. */
export function renderStack(
    projectDir: string,
    stack: string,
    env: NodeJS.ProcessEnv,
): LoadedConfig & { files: TierFiles; violations: PolicyViolation[] } {
    const stackFile = readStackFile(projectDir, stack);
    const loaded = loadStackConfig(stackFile);
    const secrets = readTierSecrets(stackFile, stack, env, loaded.config.platform);
    const files = renderTierFiles(loaded.config, secrets, stack);
    const violations = policyViolations(configPolicyResources(loaded.config, stack, files["pgbouncer.ini"]));
    return { ...loaded, files, violations };
}
