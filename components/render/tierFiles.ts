import { TierConfig, TierSecrets } from "../schema/schema";
import { renderDatabaseSql } from "./databaseSql";
import { renderGunicornConf } from "./gunicornConf";
import { renderNginxConf } from "./nginxConf";
import { renderPgbouncerIni } from "./pgbouncerIni";
import { renderReceiverEnv } from "./receiverEnv";
import { renderUserlist } from "./userlist";

/** Files that need no secret to render. */
export interface PublicFiles {
    readonly "pgbouncer.ini": string;
    readonly "gunicorn.conf.py": string;
    readonly "nginx.conf": string;
    readonly "receiver.env": string;
}

/** Files that hold pre-hashed password secrets. */
export interface SecretFiles {
    readonly "userlist.txt": string;
    readonly "database.sql": string;
}

export function renderPublicFiles(cfg: TierConfig, stack: string): PublicFiles {
    return {
        "pgbouncer.ini": renderPgbouncerIni(cfg, stack),
        "gunicorn.conf.py": renderGunicornConf(cfg, stack),
        "nginx.conf": renderNginxConf(cfg, stack),
        "receiver.env": renderReceiverEnv(cfg, stack),
    };
}

export function renderSecretFiles(cfg: TierConfig, secrets: TierSecrets, stack: string): SecretFiles {
    return {
        "userlist.txt": renderUserlist(cfg, secrets),
        "database.sql": renderDatabaseSql(cfg, secrets, stack),
    };
}

/** The six files a stack renders: what `npm run render` writes, the harness runs and the hosts receive. */
export type TierFiles = PublicFiles & SecretFiles;

/** Files that hold secrets and are written owner-only. */
export const PRIVATE_FILES: readonly (keyof TierFiles)[] = ["userlist.txt", "database.sql"];

export function renderTierFiles(cfg: TierConfig, secrets: TierSecrets, stack: string): TierFiles {
    return { ...renderPublicFiles(cfg, stack), ...renderSecretFiles(cfg, secrets, stack) };
}
