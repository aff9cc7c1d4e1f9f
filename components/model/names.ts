import { TierConfig } from "../schema/schema";

// Names the tier gives what it creates outside its own resources: import ids, metric namespaces, dashboards.

/** Route 53's import id of an A record. */
export const recordImportId = (zoneId: string, name: string) => `${zoneId}_${name}_A`;

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

/** The stack's CloudWatch dashboard. */
export function dashboardName(stack: string): string {
    return `receiver-tier-${stack}`;
}

/** Where the dashboard opens in the CloudWatch console. */
export function dashboardUrl(region: string, name: string): string {
    return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${name}`;
}
