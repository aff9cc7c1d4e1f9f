import { createHash } from "crypto";
import { gzipSync } from "zlib";
import { stringify } from "yaml";
import { TierConfig } from "../config/schema";
import { asset } from "./assets";
import { renderEnvFile } from "./envFile";
import { HOST_PATHS } from "./hostPaths";
import { renderMonitorSql, renderMonitorTimer } from "./monitor";
import { ParameterNames } from "./parameterNames";
import { PublicFiles } from "./index";

interface WriteFile {
    path: string;
    content: string;
    permissions: string;
    encoding?: "gz+b64";
}

const file = (path: string, content: string, permissions = "0644"): WriteFile => ({ path, content, permissions });

// EC2 takes at most 16 KiB of user data; the app source goes compressed (gzip with no timestamp,
// so the launch template does not change between runs).
const compressedFile = (path: string, content: string): WriteFile => ({
    path,
    content: gzipSync(content, { level: 9 }).toString("base64"),
    permissions: "0644",
    encoding: "gz+b64",
});

function cloudConfig(packages: string[], writeFiles: WriteFile[], runcmd: string[][]): string {
    return "#cloud-config\n" + stringify({ package_update: true, packages, write_files: writeFiles, runcmd }, { lineWidth: 0 });
}

/** Applies the rendered files on a PgBouncer host by reload; the SSM association runs it on change. */
export const APPLY_PGBOUNCER_CONFIG = "/usr/local/sbin/receiver-tier-apply-pgbouncer-config";

/**
 * User data of a PgBouncer host. It holds no secret and no pgbouncer.ini: both come from SSM,
 * so a setting change never alters user data (no host replacement, only a reload).
 */
export function renderPgbouncerUserData(cfg: TierConfig, region: string, names: ParameterNames): string {
    const pg = cfg.postgres;
    return cloudConfig(
        ["pgbouncer", "postgresql-client", "awscli"],
        [
            file("/etc/receiver-tier/pgbouncer-host.env", renderEnvFile("PgBouncer host settings", [
                ["AWS_REGION", region],
                ["INI_PARAMETER", names.pgbouncerIni],
                ["USERLIST_PARAMETER", names.userlist],
            ])),
            file(APPLY_PGBOUNCER_CONFIG, asset("pgbouncer/apply-config.sh"), "0755"),
            file("/etc/systemd/system/pgbouncer.service.d/override.conf", asset("systemd/pgbouncer-override.conf")),
            file("/etc/receiver-tier/monitor.env", renderEnvFile("long-running-query monitor", [
                ["AWS_REGION", region],
                ["MONITOR_PASSWORD_PARAMETER", names.monitorPassword],
                ["PGHOST", pg.host],
                ["PGPORT", pg.port],
                ["PGDATABASE", pg.database],
                ["PGUSER", cfg.monitor.role],
                ["PGSSLMODE", pg.sslmode],
            ])),
            file("/etc/receiver-tier/monitor.sql", renderMonitorSql(cfg)),
            file("/usr/local/bin/receiver-long-query-monitor", asset("pgbouncer/long-query-monitor.sh"), "0755"),
            file("/etc/systemd/system/receiver-long-query-monitor.service", asset("systemd/receiver-long-query-monitor.service")),
            file("/etc/systemd/system/receiver-long-query-monitor.timer", renderMonitorTimer(cfg)),
        ],
        [
            ["systemctl", "daemon-reload"],
            [APPLY_PGBOUNCER_CONFIG],
            ["systemctl", "enable", "pgbouncer.service"],
            ["systemctl", "enable", "--now", "receiver-long-query-monitor.timer"],
        ],
    );
}

/** User data of a receiver: the rendered Gunicorn config and env, the app, no secret. */
export function renderReceiverUserData(cfg: TierConfig, region: string, names: ParameterNames, files: PublicFiles): string {
    const app = cfg.receiver.app;
    return cloudConfig(
        ["gunicorn", "python3-psycopg2", "awscli"],
        [
            file("/etc/receiver-tier/receiver-host.env", renderEnvFile("receiver host settings", [
                ["AWS_REGION", region],
                ["SECRETS_PARAMETER", names.receiverSecrets],
                ["APP_ARTIFACT_URL", app.artifactUrl ?? ""],
            ])),
            file(HOST_PATHS.gunicornConf, files["gunicorn.conf.py"]),
            file(HOST_PATHS.receiverEnv, files["receiver.env"]),
            compressedFile(`${HOST_PATHS.receiverDir}/app/webhook_receiver.py`, asset("receiver/webhook_receiver.py")),
            file("/usr/local/sbin/receiver-tier-install-receiver", asset("receiver/install-receiver.sh"), "0755"),
            file("/etc/systemd/system/webhook-receiver.service", asset("systemd/webhook-receiver.service")),
        ],
        [
            ["useradd", "--system", "--home-dir", HOST_PATHS.receiverDir, "--shell", "/usr/sbin/nologin", "webhook-receiver"],
            ["/usr/local/sbin/receiver-tier-install-receiver"],
        ],
    );
}

/** base64 as EC2 launch templates take user data. */
export function base64(text: string): string {
    return Buffer.from(text, "utf8").toString("base64");
}

/** Changes whenever the content an SSM association applies changes, so the association re-runs. */
export function contentVersion(...contents: string[]): string {
    const hash = createHash("sha256");
    for (const content of contents) hash.update(content).update("\0");
    return hash.digest("hex").slice(0, 16);
}

/** SSM Command document that runs the apply script; `configVersion` only forces a re-run. */
export function renderApplyConfigDocument(): string {
    return JSON.stringify(
        {
            schemaVersion: "2.2",
            description: "Write pgbouncer.ini and userlist.txt from Parameter Store and reload PgBouncer (no restart).",
            parameters: { configVersion: { type: "String", description: "Hash of the rendered files; a new value re-runs the association." } },
            mainSteps: [{ action: "aws:runShellScript", name: "applyPgbouncerConfig", inputs: { runCommand: [APPLY_PGBOUNCER_CONFIG] } }],
        },
        null,
        2,
    );
}
