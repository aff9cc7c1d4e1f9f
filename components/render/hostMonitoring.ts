import { HOST_PATHS } from "../model/hostPaths";
import { metricsNamespace } from "../model/names";
import { TierConfig } from "../schema/schema";
import { renderEnvFile } from "./envFile";
import { localHealthUrl } from "../model/proxy";

/** metrics.env: where a host's metrics go, and (receivers) the health check it reports. */
export function renderMetricsEnv(cfg: TierConfig, stack: string, region: string): string {
    return renderEnvFile("CloudWatch metrics of this host", [
        ["AWS_REGION", region],
        ["METRICS_NAMESPACE", metricsNamespace(cfg, stack)],
        ["LOCAL_HEALTH_URL", localHealthUrl(cfg)],
    ]);
}

/** logrotate for a host's logs: daily, at most monitoring.logRetentionDays kept, none above 100 MB, on a HOST_VOLUME_GB disk. */
export function renderLogrotate(cfg: TierConfig, logs: readonly string[]): string {
    return (
        [
            `# receiver-tier: keep ${cfg.monitoring.logRetentionDays} days of logs, none above 100 MB.`,
            `${logs.join(" ")} {`,
            "    daily",
            `    rotate ${cfg.monitoring.logRetentionDays}`,
            "    maxsize 100M",
            "    compress",
            "    delaycompress",
            "    missingok",
            "    notifempty",
            // The programs keep their log file open; copytruncate needs no reload or signal.
            "    copytruncate",
            "}",
        ].join("\n") + "\n"
    );
}

export const PGBOUNCER_LOGS = [HOST_PATHS.pgbouncerLog];
export function receiverLogs(cfg: TierConfig): string[] {
    return [cfg.receiver.gunicorn.accesslog, cfg.receiver.gunicorn.errorlog];
}
