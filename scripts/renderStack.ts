import { LoadedConfig, parseTierConfig } from "../components/config/load";
import { readStackFile, readTierSecrets } from "../components/config/stackFile";
import { PublicFiles, renderPublicFiles, renderSecretFiles, SecretFiles } from "../components/render";

export type RenderedFiles = PublicFiles & SecretFiles;

/** Files that hold secrets and are written owner-only. */
export const PRIVATE_FILES: readonly (keyof RenderedFiles)[] = ["userlist.txt", "database.sql"];

/** Validates a stack's file and renders all five files, in memory. */
export function renderStack(projectDir: string, stack: string, env: NodeJS.ProcessEnv): LoadedConfig & { files: RenderedFiles } {
    const stackFile = readStackFile(projectDir, stack);
    const loaded = parseTierConfig(stackFile.raw);
    const secrets = readTierSecrets(stackFile, stack, env);
    const files = { ...renderPublicFiles(loaded.config, stack), ...renderSecretFiles(loaded.config, secrets, stack) };
    return { ...loaded, files };
}
