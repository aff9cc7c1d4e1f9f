import { LoadedConfig, parseTierConfig } from "../components/config/load";
import { SECRET_KEYS, SecretKey, TierSecrets } from "../components/config/schema";
import { lookupSecret, readStackFile } from "../components/config/stackFile";
import { PublicFiles, renderPublicFiles, renderSecretFiles, SecretFiles } from "../components/render";

export type RenderedFiles = PublicFiles & SecretFiles;

/** Files that hold secrets and are written owner-only. */
export const PRIVATE_FILES: readonly (keyof RenderedFiles)[] = ["userlist.txt", "database.sql"];

const RENDER_SECRETS = SECRET_KEYS.filter((key): key is Exclude<SecretKey, "postgresAdminPassword"> => key !== "postgresAdminPassword");

/** Thrown when secrets the files need are not available offline; never invents one. */
export class MissingSecretsError extends Error {
    constructor(readonly missing: readonly string[]) {
        super(`missing secrets:\n${missing.map((m) => `  ${m}`).join("\n")}`);
        this.name = "MissingSecretsError";
    }
}

/** Validates a stack's file and renders all five files, in memory. */
export function renderStack(projectDir: string, stack: string, env: NodeJS.ProcessEnv): LoadedConfig & { files: RenderedFiles } {
    const stackFile = readStackFile(projectDir, stack);
    const loaded = parseTierConfig(stackFile.raw);
    const secrets: Partial<TierSecrets> = {};
    const missing: string[] = [];
    for (const key of RENDER_SECRETS) {
        const found = lookupSecret(stackFile, stack, key, env);
        if ("value" in found) secrets[key] = found.value;
        else missing.push(found.missing);
    }
    if (missing.length > 0) {
        throw new MissingSecretsError(missing);
    }
    const files = { ...renderPublicFiles(loaded.config, stack), ...renderSecretFiles(loaded.config, secrets as TierSecrets, stack) };
    return { ...loaded, files };
}
