import { serverConnectionsPerHost } from "../model/capacity";
import { metricsNamespace } from "../model/names";
import { durationToMs } from "../schema/duration";
import { TierConfig } from "../schema/schema";

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
