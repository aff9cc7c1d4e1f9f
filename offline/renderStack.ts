import { LoadedConfig } from "../components/config/load";
import { loadStackConfig, readStackFile, readTierSecrets } from "../components/config/stackFile";
import { PublicFiles, renderPublicFiles, renderSecretFiles, SecretFiles } from "../components/render";
import { configPolicyResources, policyViolations, PolicyViolation } from "../policy/offline";

export type RenderedFiles = PublicFiles & SecretFiles;

/** Files that hold secrets and are written owner-only. */
export const PRIVATE_FILES: readonly (keyof RenderedFiles)[] = ["userlist.txt", "database.sql"];

/** Validates a stack's file and renders all five files, in memory, with the policy pack's config-level findings. */
export function renderStack(
    projectDir: string,
    stack: string,
    env: NodeJS.ProcessEnv,
): LoadedConfig & { files: RenderedFiles; violations: PolicyViolation[] } {
    const stackFile = readStackFile(projectDir, stack);
    const loaded = loadStackConfig(stackFile);
    const secrets = readTierSecrets(stackFile, stack, env, loaded.config.platform);
    const publicFiles = renderPublicFiles(loaded.config, stack);
    const files = { ...publicFiles, ...renderSecretFiles(loaded.config, secrets, stack) };
    const violations = policyViolations(configPolicyResources(loaded.config, stack, publicFiles["pgbouncer.ini"]));
    return { ...loaded, files, violations };
}
