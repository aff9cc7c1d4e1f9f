import { gzipSync } from "zlib";
import { stringify } from "yaml";
import { TierConfig } from "../schema/schema";
import { asset } from "./assets";
import { renderEnvFile } from "./envFile";
import { HOST_PATHS } from "../model/hostPaths";
import { ParameterNames } from "../model/parameterNames";
import { PublicFiles } from "./tierFiles";
import { PGBOUNCER_HEALTH_PORT } from "../model/rollout";
import { ALB_HEALTH_CHECK, LAUNCH_HOOK_NAME } from "../model/rollout";
import { PGBOUNCER_LOGS, receiverLogs, renderLogrotate, renderMetricsEnv } from "./hostMonitoring";
import { renderMonitorSql, renderMonitorTimer } from "./longQueryMonitor";
import { pgbouncerServesTls } from "../model/tlsModes";
import { localHealthUrl } from "../model/proxy";
import { ssmAgentPackage } from "../model/sessionManager";

interface WriteFile {
    path: string;
    content: string;
    permissions: string;
}

const file = (path: string, content: string, permissions = "0644"): WriteFile => ({ path, content, permissions });

function cloudConfig(packages: string[], writeFiles: WriteFile[], runcmd: string[][]): string {
    return "#cloud-config\n" + stringify({ package_update: true, packages, write_files: writeFiles, runcmd }, { lineWidth: 0 });
}

/** Applies the files in Parameter Store on a PgBouncer host: at boot and on its staggered timer. */
const APPLY_PGBOUNCER_CONFIG = "/usr/local/sbin/receiver-tier-apply-pgbouncer-config";
/** Completes the launch lifecycle hook once the host's readiness command succeeds. */
const COMPLETE_LAUNCH = "/usr/local/sbin/receiver-tier-complete-launch";
/** Checks the staged nginx.conf with nginx -t, installs it and (re)starts nginx after Gunicorn. */
const INSTALL_PROXY = "/usr/local/sbin/receiver-tier-install-proxy";
/** The PgBouncer host's health check (launch readiness and the NLB's HTTP check). */
const PGBOUNCER_HEALTH = "/usr/local/sbin/receiver-tier-pgbouncer-health";

/** What every host needs to publish its metrics (files/host), and the timer that runs its collector. */
function metricsFiles(): WriteFile[] {
    return [
        file("/usr/local/bin/receiver-tier-put-metric", asset("host/put-metric.sh"), "0755"),
        file("/usr/local/bin/receiver-tier-host-id", asset("host/host-id.sh"), "0755"),
        file("/etc/systemd/system/receiver-tier-metrics.timer", asset("systemd/receiver-tier-metrics.timer")),
    ];
}

/** Installs the SSM agent in the background: operators' Session Manager access, off the host's readiness path. */
const START_SSM_AGENT_INSTALL = ["systemctl", "start", "--no-block", "receiver-tier-ssm-agent.service"];

/** What every host needs for Session Manager: the unit that installs the agent from the region's package. */
function sessionManagerFiles(region: string): WriteFile[] {
    const unit = asset("systemd/receiver-tier-ssm-agent.service")
        .replace("@AWS_REGION@", region)
        .replace("@SSM_AGENT_PACKAGE@", ssmAgentPackage(region).url);
    return [
        file("/usr/local/sbin/receiver-tier-install-ssm-agent", asset("host/install-ssm-agent.sh"), "0755"),
        file("/etc/systemd/system/receiver-tier-ssm-agent.service", unit),
    ];
}

/** The monitor's connection settings (no secret: the password is fetched from its parameter). */
export function renderMonitorEnv(cfg: TierConfig, region: string, names: ParameterNames): string {
    const pg = cfg.postgres;
    return renderEnvFile("long-running-query monitor", [
        ["AWS_REGION", region],
        ["MONITOR_PASSWORD_PARAMETER", names.monitorPassword],
        ["PGHOST", pg.host],
        ["PGPORT", pg.port],
        ["PGDATABASE", pg.database],
        ["PGUSER", cfg.monitor.role],
        ["PGSSLMODE", pg.sslmode],
        ...(pg.caBundle !== undefined ? [["PGSSLROOTCERT", HOST_PATHS.postgresCa] as [string, string]] : []),
    ]);
}

/** The files a PgBouncer host applies from Parameter Store that need no secret, pgbouncer.ini aside. */
export interface PgbouncerHostFiles {
    /** The long-running-query monitor's connection settings. */
    readonly monitorEnv: string;
    /** The monitor's query. */
    readonly monitorSql: string;
    /** The monitor's systemd timer. */
    readonly monitorTimer: string;
    /** Where the host's metrics go. */
    readonly metricsEnv: string;
    /** logrotate of PgBouncer's log. */
    readonly logrotate: string;
}

export function renderPgbouncerHostFiles(cfg: TierConfig, stack: string, region: string, names: ParameterNames): PgbouncerHostFiles {
    return {
        monitorEnv: renderMonitorEnv(cfg, region, names),
        monitorSql: renderMonitorSql(cfg),
        monitorTimer: renderMonitorTimer(cfg),
        metricsEnv: renderMetricsEnv(cfg, stack, region),
        logrotate: renderLogrotate(cfg, PGBOUNCER_LOGS),
    };
}

/**
 * Which parameter becomes which file on a PgBouncer host, and what applies it. Every file that
 * follows from config is here, so config changes never touch user data.
 */
export function renderManagedFiles(cfg: TierConfig, names: ParameterNames): string {
    type Row = [string, string, string, string, "pgbouncer" | "monitor" | "timer" | "health" | "metrics"];
    const postgresCa: Row[] =
        cfg.postgres.caBundle !== undefined ? [[names.postgresCa, HOST_PATHS.postgresCa, "0644", "root:root", "pgbouncer"]] : [];
    const pgbouncerTls: Row[] = pgbouncerServesTls(cfg)
        ? [
              [names.pgbouncerTlsCert, HOST_PATHS.pgbouncerTlsCert, "0644", "root:root", "pgbouncer"],
              [names.pgbouncerTlsKey, HOST_PATHS.pgbouncerTlsKey, "0600", "postgres:postgres", "pgbouncer"],
              [names.pgbouncerTlsCa, HOST_PATHS.pgbouncerTlsCa, "0644", "root:root", "health"],
          ]
        : [];
    // The files pgbouncer.ini names come before it: the throwaway check of a new ini reads them staged.
    const rows: Row[] = [
        ...postgresCa,
        ...pgbouncerTls,
        [names.pgbouncerIni, HOST_PATHS.pgbouncerIni, "0640", "postgres:postgres", "pgbouncer"],
        [names.userlist, HOST_PATHS.userlist, "0600", "postgres:postgres", "pgbouncer"],
        [names.pgbouncerHealthEnv, HOST_PATHS.pgbouncerHealthEnv, "0600", "postgres:postgres", "health"],
        [names.monitorEnv, HOST_PATHS.monitorEnv, "0644", "root:root", "monitor"],
        [names.metricsEnv, HOST_PATHS.metricsEnv, "0644", "root:root", "metrics"],
        [names.pgbouncerLogrotate, HOST_PATHS.pgbouncerLogrotate, "0644", "root:root", "metrics"],
        [names.monitorSql, HOST_PATHS.monitorSql, "0644", "root:root", "monitor"],
        [names.monitorTimer, HOST_PATHS.monitorTimer, "0644", "root:root", "timer"],
    ];
    return rows.map((row) => row.join(" ")).join("\n") + "\n";
}

/** launch.env: what receiver-tier-complete-launch needs on either kind of host. */
function launchEnvFile(cfg: TierConfig, region: string): WriteFile {
    return file(
        HOST_PATHS.launchEnv,
        renderEnvFile("launch lifecycle hook", [
            ["AWS_REGION", region],
            ["LIFECYCLE_HOOK_NAME", LAUNCH_HOOK_NAME],
            ["READINESS_DEADLINE_SECONDS", cfg.rollout.readinessDeadlineSeconds],
        ]),
    );
}

/**
 * User data of a PgBouncer host: packages, scripts and units only. It holds no secret and, but for
 * the launch's own readiness deadline (rollout.readinessDeadlineSeconds), nothing that follows from
 * config, so it changes only with this project's code or how a new host is admitted.
 */
export function renderPgbouncerUserData(cfg: TierConfig, region: string, names: ParameterNames): string {
    return cloudConfig(
        ["pgbouncer", "postgresql-client", "awscli", "curl"],
        [
            file("/etc/receiver-tier/pgbouncer-host.env", renderEnvFile("PgBouncer host settings", [["AWS_REGION", region]])),
            file("/etc/receiver-tier/managed-files", renderManagedFiles(cfg, names)),
            launchEnvFile(cfg, region),
            file(APPLY_PGBOUNCER_CONFIG, asset("pgbouncer/apply-config.sh"), "0755"),
            file(COMPLETE_LAUNCH, asset("host/complete-launch.sh"), "0755"),
            file(PGBOUNCER_HEALTH, asset("pgbouncer/pgbouncer-health.sh"), "0755"),
            file("/etc/systemd/system/receiver-tier-config.service", asset("systemd/receiver-tier-config.service")),
            file("/etc/systemd/system/receiver-tier-config.timer", asset("systemd/receiver-tier-config.timer")),
            file(
                "/etc/systemd/system/receiver-tier-pgbouncer-health.socket",
                asset("systemd/receiver-tier-pgbouncer-health.socket").replace("@PGBOUNCER_HEALTH_PORT@", String(PGBOUNCER_HEALTH_PORT)),
            ),
            file("/etc/systemd/system/receiver-tier-pgbouncer-health@.service", asset("systemd/receiver-tier-pgbouncer-health@.service")),
            file("/etc/systemd/system/pgbouncer.service.d/override.conf", asset("systemd/pgbouncer-override.conf")),
            file("/usr/local/bin/receiver-long-query-monitor", asset("pgbouncer/long-query-monitor.sh"), "0755"),
            ...metricsFiles(),
            file("/usr/local/sbin/receiver-tier-collect-metrics", asset("pgbouncer/collect-metrics.sh"), "0755"),
            file("/usr/local/lib/receiver-tier/pgbouncer-metrics.py", asset("pgbouncer/pgbouncer-metrics.py"), "0755"),
            file("/etc/systemd/system/receiver-tier-metrics.service", asset("systemd/pgbouncer-metrics.service")),
            file("/etc/systemd/system/receiver-long-query-monitor.service", asset("systemd/receiver-long-query-monitor.service")),
            ...sessionManagerFiles(region),
        ],
        [
            ["systemctl", "daemon-reload"],
            START_SSM_AGENT_INSTALL,
            [APPLY_PGBOUNCER_CONFIG],
            ["systemctl", "enable", "pgbouncer.service", "receiver-long-query-monitor.timer"],
            [
                "systemctl",
                "enable",
                "--now",
                "receiver-tier-config.timer",
                "receiver-tier-pgbouncer-health.socket",
                "receiver-tier-metrics.timer",
            ],
            [COMPLETE_LAUNCH, PGBOUNCER_HEALTH, "check"],
        ],
    );
}

/**
 * User data of a receiver: the rendered Gunicorn config and env, the app, no secret.
 * `secretsVersion` is the secrets parameter's version the instance fetches: a new version (a switch
 * of the active login) makes a new launch template version, so the fleet rolls onto it.
 */
export function renderReceiverUserData(
    cfg: TierConfig,
    stack: string,
    region: string,
    names: ParameterNames,
    files: PublicFiles,
    secretsVersion: number,
    pgbouncerCa: string | undefined,
): string {
    const app = cfg.receiver.app;
    return cloudConfig(
        ["gunicorn", "nginx", "python3-psycopg2", "awscli", "curl"],
        [
            file(
                "/etc/receiver-tier/receiver-host.env",
                renderEnvFile("receiver host settings", [
                    ["AWS_REGION", region],
                    ["SECRETS_PARAMETER", names.receiverSecrets],
                    ["SECRETS_VERSION", secretsVersion],
                    ["APP_ARTIFACT_URL", app.artifactUrl ?? ""],
                ]),
            ),
            launchEnvFile(cfg, region),
            file(HOST_PATHS.gunicornConf, files["gunicorn.conf.py"]),
            // Staged: the package's own nginx.conf is replaced only once `nginx -t` accepted this one.
            file(HOST_PATHS.stagedNginxConf, files["nginx.conf"]),
            file(INSTALL_PROXY, asset("receiver/install-proxy.sh"), "0755"),
            file("/etc/systemd/system/nginx.service.d/receiver-tier.conf", asset("systemd/nginx-override.conf")),
            file(HOST_PATHS.receiverEnv, files["receiver.env"]),
            ...(pgbouncerCa !== undefined ? [file(HOST_PATHS.receiverPgbouncerCa, pgbouncerCa)] : []),
            file(`${HOST_PATHS.receiverDir}/app/webhook_receiver.py`, asset("receiver/webhook_receiver.py")),
            file("/usr/local/sbin/receiver-tier-install-receiver", asset("receiver/install-receiver.sh"), "0755"),
            file("/usr/local/sbin/receiver-tier-fetch-secrets", asset("receiver/fetch-secrets.sh"), "0755"),
            file(COMPLETE_LAUNCH, asset("host/complete-launch.sh"), "0755"),
            file("/etc/systemd/system/webhook-receiver.service", asset("systemd/webhook-receiver.service")),
            file(HOST_PATHS.metricsEnv, renderMetricsEnv(cfg, stack, region)),
            file(HOST_PATHS.receiverLogrotate, renderLogrotate(cfg, receiverLogs(cfg))),
            ...metricsFiles(),
            file("/usr/local/sbin/receiver-tier-health-metric", asset("receiver/health-metric.sh"), "0755"),
            file("/etc/systemd/system/receiver-tier-metrics.service", asset("systemd/receiver-metrics.service")),
            ...sessionManagerFiles(region),
        ],
        [
            ["useradd", "--system", "--home-dir", HOST_PATHS.receiverDir, "--shell", "/usr/sbin/nologin", "webhook-receiver"],
            ["/usr/local/sbin/receiver-tier-install-receiver"],
            [INSTALL_PROXY],
            // After the receiver's install, whose daemon-reload loaded the unit.
            START_SSM_AGENT_INSTALL,
            // In service only once the app answers its health check through nginx, as the ALB asks it
            // (the app's check logs in through PgBouncer).
            [COMPLETE_LAUNCH, "curl", "-fsS", "-o", "/dev/null", "--max-time", String(ALB_HEALTH_CHECK.timeout), localHealthUrl(cfg)],
            ["systemctl", "enable", "--now", "receiver-tier-metrics.timer"],
        ],
    );
}

/** EC2's limit on user data, counted before base64 (here: on the gzip). */
export const EC2_USER_DATA_LIMIT_BYTES = 16 * 1024;

/**
 * User data as a launch template takes it: gzip (cloud-init unpacks it) in base64; no timestamp in
 * the header, so an unchanged text gives an unchanged template. Beyond EC2's limit it throws, so
 * preview fails instead of the launch template at `up`.
 */
export function launchTemplateUserData(text: string): string {
    const gzip = gzipSync(text, { level: 9 });
    if (gzip.length > EC2_USER_DATA_LIMIT_BYTES) {
        throw new Error(
            `user data is ${gzip.length} bytes gzipped, above EC2's ${EC2_USER_DATA_LIMIT_BYTES}: ship the app as receiver.app.artifactUrl rather than in user data (receiver.app.reference)`,
        );
    }
    return gzip.toString("base64");
}
