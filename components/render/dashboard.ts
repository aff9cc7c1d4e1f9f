import { pgbouncerHostsDuringRoll, postgresBudget, serverConnectionsPerHost } from "../model/capacity";
import { metricsNamespace } from "../model/names";
import { TierConfig } from "../schema/schema";
import { AlarmTargets, alarmThresholds } from "./alarms";

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
