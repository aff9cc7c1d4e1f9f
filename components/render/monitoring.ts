import { durationToMs } from "../schema/duration";
import { postgresBudget, pgbouncerHostsDuringRoll, serverConnectionsPerHost } from "../config/rules";
import { TierConfig } from "../schema/schema";
import { renderEnvFile } from "./envFile";
import { HOST_PATHS } from "../model/hostPaths";

/** The CloudWatch namespace the hosts publish to (and the only one their role may write). */
export function metricsNamespace(cfg: TierConfig, stack: string): string {
    return cfg.monitoring.namespace ?? `ReceiverTier/${stack}`;
}

/** Metrics PgBouncer hosts publish per database (files/pgbouncer/pgbouncer-metrics.py), dimensions Database[, Host]. */
export const POOL_METRICS = [
    "ClientsActive",
    "ClientsWaiting",
    "ServersActive",
    "ServersIdle",
    "ServerConnections",
    "MaxWaitSeconds",
    "TransactionsPerSecond",
    "QueriesPerSecond",
    "AvgTransactionTimeMs",
    "AvgQueryTimeMs",
    "AvgWaitTimeMs",
] as const;
/** Metrics hosts publish per host and fleet-wide without a dimension (files/host/put-metric.sh). */
export const HOST_METRICS = ["PgbouncerHostHealthy", "ConfigApplyFailed", "LongRunningQueries", "ReceiverHealthy"] as const;
export type PublishedMetric = (typeof POOL_METRICS)[number] | (typeof HOST_METRICS)[number];

/** metrics.env: where a host's metrics go, and (receivers) the health check it reports. */
export function renderMetricsEnv(cfg: TierConfig, stack: string, region: string): string {
    const healthUrl = `http://127.0.0.1:${cfg.receiver.port}${cfg.receiver.healthPath}`;
    return renderEnvFile("CloudWatch metrics of this host", [
        ["AWS_REGION", region],
        ["METRICS_NAMESPACE", metricsNamespace(cfg, stack)],
        ["LOCAL_HEALTH_URL", healthUrl],
    ]);
}

/** GiB of every host's root volume: room for the OS, the packages and the logs logrotate keeps. */
export const HOST_VOLUME_GB = 16;

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

/** Alarm thresholds, each derived from the validated config (README "Monitoring"). */
export function alarmThresholds(cfg: TierConfig) {
    const s = cfg.pgbouncer.settings;
    return {
        /** Clients are dropped at query_wait_timeout; alarm when the longest wait is halfway there. */
        maxWaitSeconds: s.query_wait_timeout / 2,
        /** Every server connection PgBouncer may open on one host (max_db_connections) is in use. */
        serverConnections: serverConnectionsPerHost(cfg),
        /** Minutes clients have been queued for a server connection before anyone is woken. */
        waitingMinutes: cfg.monitoring.waitingMinutes,
        /** A p99 at the statement timeout means requests are being cut off by PostgreSQL. */
        p99Seconds: durationToMs(cfg.receiverRole.statementTimeout) / 1000,
        max5xxPercent: cfg.monitoring.max5xxPercent,
        healthyReceivers: cfg.receiver.instances,
        healthyPgbouncerHosts: cfg.pgbouncer.hosts,
        /** The monitor runs every intervalMinutes; one finding is an alarm. */
        longQueryPeriodSeconds: cfg.monitor.intervalMinutes * 60,
    };
}

/** Load balancer and target group identities the AWS metrics are keyed by (ARN suffixes). */
export interface AlarmTargets<T> {
    readonly alb: T;
    readonly receiverTargetGroup: T;
    readonly nlb: T;
    readonly pgbouncerTargetGroup: T;
}

interface MetricRef<T> {
    readonly namespace: string;
    readonly metricName: string;
    readonly dimensions: Record<string, T | string>;
}

/** One CloudWatch alarm, as aws.cloudwatch.MetricAlarm takes it (minus its actions). */
export interface AlarmSpec<T> {
    /** Short name, unique in the stack: the alarm is `<stack>-<id>`. */
    readonly id: string;
    readonly name: string;
    readonly description: string;
    readonly comparisonOperator: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
    readonly threshold: number;
    readonly evaluationPeriods: number;
    readonly treatMissingData: "notBreaching" | "breaching";
    readonly metric?: MetricRef<T> & { readonly period: number; readonly statistic?: string; readonly extendedStatistic?: string };
    readonly metricQueries?: readonly {
        readonly id: string;
        readonly expression?: string;
        readonly label?: string;
        readonly returnData?: boolean;
        readonly metric?: MetricRef<T> & { readonly period: number; readonly stat: string };
    }[];
}

/** The tier's alarms: receivers, pools, PostgreSQL-side findings and config pushes. */
export function renderAlarms<T>(cfg: TierConfig, stack: string, targets: AlarmTargets<T>): AlarmSpec<T>[] {
    const t = alarmThresholds(cfg);
    const ns = metricsNamespace(cfg, stack);
    const database = { Database: cfg.pgbouncer.databaseAlias };
    const alb = { LoadBalancer: targets.alb, TargetGroup: targets.receiverTargetGroup };
    const nlb = { LoadBalancer: targets.nlb, TargetGroup: targets.pgbouncerTargetGroup };
    const albMetric = (id: string, metricName: string, dimensions: Record<string, T | string>) => ({
        id,
        returnData: false,
        metric: { namespace: "AWS/ApplicationELB", metricName, dimensions, period: 60, stat: "Sum" },
    });
    const pool = (metricName: string) => ({ namespace: ns, metricName, dimensions: database, period: 60, statistic: "Maximum" });
    const alarms: Omit<AlarmSpec<T>, "name">[] = [
        {
            id: "receivers-5xx-rate",
            description: `More than ${t.max5xxPercent} % of requests answered 5xx (receivers or the ALB) for 3 minutes.`,
            comparisonOperator: "GreaterThanThreshold",
            threshold: t.max5xxPercent,
            evaluationPeriods: 3,
            treatMissingData: "notBreaching",
            metricQueries: [
                albMetric("target5xx", "HTTPCode_Target_5XX_Count", alb),
                albMetric("elb5xx", "HTTPCode_ELB_5XX_Count", { LoadBalancer: targets.alb }),
                albMetric("requests", "RequestCount", { LoadBalancer: targets.alb }),
                {
                    id: "rate",
                    label: "5xx %",
                    returnData: true,
                    expression: "IF(requests > 0, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)",
                },
            ],
        },
        {
            id: "receivers-healthy-below-desired",
            description: `Fewer than receiver.instances (${t.healthyReceivers}) receivers pass the ALB health check.`,
            comparisonOperator: "LessThanThreshold",
            threshold: t.healthyReceivers,
            evaluationPeriods: 3,
            treatMissingData: "breaching",
            metric: { namespace: "AWS/ApplicationELB", metricName: "HealthyHostCount", dimensions: alb, period: 60, statistic: "Minimum" },
        },
        {
            id: "receivers-p99-latency",
            description: `Receivers' p99 response time reached the ${cfg.receiverRole.statementTimeout} statement timeout for 3 minutes.`,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: t.p99Seconds,
            evaluationPeriods: 3,
            treatMissingData: "notBreaching",
            metric: {
                namespace: "AWS/ApplicationELB",
                metricName: "TargetResponseTime",
                dimensions: alb,
                period: 60,
                extendedStatistic: "p99",
            },
        },
        {
            id: "pgbouncer-clients-waiting",
            description: `Clients queued for a server connection on a PgBouncer host for ${t.waitingMinutes} minutes in a row.`,
            comparisonOperator: "GreaterThanThreshold",
            threshold: 0,
            evaluationPeriods: t.waitingMinutes,
            treatMissingData: "notBreaching",
            metric: pool("ClientsWaiting"),
        },
        {
            id: "pgbouncer-maxwait",
            description: `A client waited ${t.maxWaitSeconds} s, half of query_wait_timeout (${cfg.pgbouncer.settings.query_wait_timeout} s), after which PgBouncer drops it.`,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: t.maxWaitSeconds,
            evaluationPeriods: 2,
            treatMissingData: "notBreaching",
            metric: pool("MaxWaitSeconds"),
        },
        {
            id: "pgbouncer-server-connections-at-cap",
            description: `A PgBouncer host holds default_pool_size + reserve_pool_size (${t.serverConnections}) server connections, its max_db_connections.`,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: t.serverConnections,
            evaluationPeriods: 3,
            treatMissingData: "notBreaching",
            metric: pool("ServerConnections"),
        },
        {
            id: "pgbouncer-healthy-below-desired",
            description: `Fewer than pgbouncer.hosts (${t.healthyPgbouncerHosts}) PgBouncer hosts can log in to PostgreSQL through their PgBouncer.`,
            comparisonOperator: "LessThanThreshold",
            threshold: t.healthyPgbouncerHosts,
            evaluationPeriods: 3,
            treatMissingData: "breaching",
            metric: { namespace: "AWS/NetworkELB", metricName: "HealthyHostCount", dimensions: nlb, period: 60, statistic: "Minimum" },
        },
        {
            id: "long-running-queries",
            description: `The long-running-query check found queries older than ${cfg.monitor.minQueryAgeSeconds} s in ${cfg.postgres.database}.`,
            comparisonOperator: "GreaterThanThreshold",
            threshold: 0,
            evaluationPeriods: 1,
            treatMissingData: "notBreaching",
            metric: {
                namespace: ns,
                metricName: "LongRunningQueries",
                dimensions: {},
                period: t.longQueryPeriodSeconds,
                statistic: "Maximum",
            },
        },
        {
            id: "config-apply-failed",
            description: "A PgBouncer host refused or could not apply a config push (journalctl -t receiver-tier-config on the host).",
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: 1,
            evaluationPeriods: 1,
            treatMissingData: "notBreaching",
            metric: { namespace: ns, metricName: "ConfigApplyFailed", dimensions: {}, period: 300, statistic: "Maximum" },
        },
    ];
    return alarms.map((alarm) => ({ ...alarm, name: `${stack}-${alarm.id}` }));
}

/** The stack's CloudWatch dashboard. */
export function dashboardName(stack: string): string {
    return `receiver-tier-${stack}`;
}

/** Where the dashboard opens in the CloudWatch console. */
export function dashboardUrl(region: string, name: string): string {
    return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${name}`;
}

/** The PostgreSQL-side limits the pool graphs are drawn against. */
function poolLimits(cfg: TierConfig) {
    return {
        perHost: serverConnectionsPerHost(cfg),
        fleetDuringRoll: pgbouncerHostsDuringRoll(cfg) * serverConnectionsPerHost(cfg),
        postgresBudget: postgresBudget(cfg),
    };
}

/** The CloudWatch dashboard body: receivers, pools and the PostgreSQL-side limits from config. */
export function renderDashboard<T extends string>(cfg: TierConfig, stack: string, region: string, targets: AlarmTargets<T>): string {
    const ns = metricsNamespace(cfg, stack);
    const db = cfg.pgbouncer.databaseAlias;
    const limits = poolLimits(cfg);
    const t = alarmThresholds(cfg);
    const widget = (title: string, x: number, y: number, metrics: unknown[][], extra: object = {}) => ({
        type: "metric",
        x,
        y,
        width: 12,
        height: 6,
        properties: { title, region, view: "timeSeries", stat: "Sum", period: 60, metrics, ...extra },
    });
    const line = (label: string, value: number) => ({ label, value });
    const alb = ["LoadBalancer", targets.alb] as const;
    const receivers = ["TargetGroup", targets.receiverTargetGroup, ...alb] as const;
    return JSON.stringify({
        widgets: [
            widget("Receivers: requests and 5xx", 0, 0, [
                ["AWS/ApplicationELB", "RequestCount", ...alb],
                ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", ...receivers],
                ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", ...alb],
            ]),
            widget(
                "Receivers: response time",
                12,
                0,
                [
                    ["AWS/ApplicationELB", "TargetResponseTime", ...receivers, { stat: "p50" }],
                    ["AWS/ApplicationELB", "TargetResponseTime", ...receivers, { stat: "p99" }],
                ],
                { annotations: { horizontal: [line(`statement timeout ${cfg.receiverRole.statementTimeout}`, t.p99Seconds)] } },
            ),
            widget(
                "Healthy hosts",
                0,
                6,
                [
                    ["AWS/ApplicationELB", "HealthyHostCount", ...receivers, { label: "receivers", stat: "Minimum" }],
                    [
                        "AWS/NetworkELB",
                        "HealthyHostCount",
                        "TargetGroup",
                        targets.pgbouncerTargetGroup,
                        "LoadBalancer",
                        targets.nlb,
                        { label: "PgBouncer hosts", stat: "Minimum" },
                    ],
                ],
                {
                    annotations: {
                        horizontal: [line("receiver.instances", cfg.receiver.instances), line("pgbouncer.hosts", cfg.pgbouncer.hosts)],
                    },
                },
            ),
            widget(
                "Pools: clients",
                12,
                6,
                [
                    [ns, "ClientsActive", "Database", db, { stat: "Maximum" }],
                    [ns, "ClientsWaiting", "Database", db, { stat: "Maximum" }],
                ],
                { annotations: { horizontal: [line("max_client_conn", cfg.pgbouncer.settings.max_client_conn)] } },
            ),
            widget(
                "Pools: server connections per host",
                0,
                12,
                [
                    [ns, "ServerConnections", "Database", db, { stat: "Maximum" }],
                    [ns, "ServersActive", "Database", db, { stat: "Maximum" }],
                ],
                {
                    annotations: {
                        horizontal: [
                            line("max_db_connections (per host)", limits.perHost),
                            line("hosts + 1 during a roll x max_db_connections", limits.fleetDuringRoll),
                            line("PostgreSQL budget for PgBouncer", limits.postgresBudget),
                        ],
                    },
                },
            ),
            widget(
                "Pools: wait time",
                12,
                12,
                [
                    [ns, "MaxWaitSeconds", "Database", db, { stat: "Maximum" }],
                    [ns, "AvgWaitTimeMs", "Database", db, { stat: "Maximum", yAxis: "right" }],
                ],
                { annotations: { horizontal: [line("query_wait_timeout", cfg.pgbouncer.settings.query_wait_timeout)] } },
            ),
            widget("PostgreSQL: long-running queries, config pushes", 0, 18, [
                [ns, "LongRunningQueries", { stat: "Maximum" }],
                [ns, "ConfigApplyFailed", { stat: "Maximum" }],
            ]),
        ],
    });
}
