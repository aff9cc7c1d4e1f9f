import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import {
    alarmThresholds,
    HOST_METRICS,
    POOL_METRICS,
    renderAlarms,
    renderDashboard,
    renderLogrotate,
} from "../../../../components/render/monitoring";
import { ALB_HEALTH_CHECK } from "../../../../components/model/rollout";
import { loadCanary, loadCanaryWith, PROJECT_DIR } from "../../support/stackConfig";

const fixture = (name: string) => path.join(__dirname, "..", "..", "fixtures", name);
const COLLECTOR = path.join(PROJECT_DIR, "files/pgbouncer/pgbouncer-metrics.py");

interface Datum {
    MetricName: string;
    Unit: string;
    Value: number;
    Dimensions: { Name: string; Value: string }[];
}

/** The collector's pure parse of captured `psql -A` output from PgBouncer 1.18 (python3 on the hosts). */
function parse(pools: string, stats: string): Datum[] {
    return JSON.parse(execFileSync("python3", [COLLECTOR, "--parse", fixture(pools), fixture(stats), "i-0abc"], { encoding: "utf8" }));
}
const fleetValue = (data: Datum[], metric: string) =>
    data.find((d) => d.MetricName === metric && d.Dimensions.length === 1 && d.Dimensions[0]?.Value === "deltacrown_receiver")?.Value;

describe("pgbouncer-metrics.py: SHOW POOLS / SHOW STATS of PgBouncer 1.18 into CloudWatch data", () => {
    const burst = parse("pgbouncer-1.18-show-pools-burst.txt", "pgbouncer-1.18-show-stats-burst.txt");

    it("sums both rotation logins of a database, keeps the longest wait, and converts microseconds", () => {
        expect(fleetValue(burst, "ClientsActive")).toBe(4);
        expect(fleetValue(burst, "ClientsWaiting")).toBe(4);
        expect(fleetValue(burst, "ServersActive")).toBe(4);
        expect(fleetValue(burst, "ServerConnections")).toBe(4);
        expect(fleetValue(burst, "MaxWaitSeconds")).toBeCloseTo(1.571792, 6);
        expect(fleetValue(burst, "AvgWaitTimeMs")).toBeCloseTo(453.189, 3);
        expect(fleetValue(burst, "AvgTransactionTimeMs")).toBeCloseTo(3759.417, 3);
    });

    it("publishes every value per host and fleet-wide, never for PgBouncer's console database", () => {
        for (const metric of POOL_METRICS) {
            const of = burst.filter((d) => d.MetricName === metric);
            expect(of.map((d) => d.Dimensions.map((x) => `${x.Name}=${x.Value}`).join(","))).toEqual([
                "Database=deltacrown_receiver,Host=i-0abc",
                "Database=deltacrown_receiver",
            ]);
        }
        expect(new Set(burst.map((d) => d.MetricName))).toEqual(new Set(POOL_METRICS));
        expect(JSON.stringify(burst)).not.toContain('"pgbouncer"');
    });

    it("reads an idle pool as zeros where nothing waits", () => {
        const idle = parse("pgbouncer-1.18-show-pools.txt", "pgbouncer-1.18-show-stats.txt");
        expect(fleetValue(idle, "ClientsWaiting")).toBe(0);
        expect(fleetValue(idle, "ServersIdle")).toBe(1);
        expect(fleetValue(idle, "MaxWaitSeconds")).toBe(0);
    });
});

describe("alarm thresholds follow the validated config", () => {
    it("moves the maxwait alarm with query_wait_timeout and the server-connection alarm with the pool sizes", () => {
        expect(alarmThresholds(loadCanary())).toMatchObject({ maxWaitSeconds: 1.5, serverConnections: 25, p99Seconds: 5 });
        const changed = loadCanaryWith(
            ["pgbouncer.settings.query_wait_timeout", 8],
            ["pgbouncer.settings.default_pool_size", 15],
            ["receiverRole.statementTimeout", "3s"],
        );
        expect(alarmThresholds(changed)).toMatchObject({ maxWaitSeconds: 4, serverConnections: 20, p99Seconds: 3 });
        const maxwait = renderAlarms(changed, "canary", { alb: "a", receiverTargetGroup: "b", nlb: "c", pgbouncerTargetGroup: "d" }).find(
            (a) => a.id === "pgbouncer-maxwait",
        );
        expect(maxwait).toMatchObject({ threshold: 4, comparisonOperator: "GreaterThanOrEqualToThreshold" });
    });

    it("alarms on each issue-listed condition, each on a metric the hosts or AWS publish", () => {
        const alarms = renderAlarms(loadCanary(), "canary", { alb: "a", receiverTargetGroup: "b", nlb: "c", pgbouncerTargetGroup: "d" });
        expect(alarms.map((a) => a.id)).toEqual([
            "receivers-5xx-rate",
            "receivers-healthy-below-desired",
            "receivers-p99-latency",
            "pgbouncer-clients-waiting",
            "pgbouncer-maxwait",
            "pgbouncer-server-connections-at-cap",
            "pgbouncer-healthy-below-desired",
            "long-running-queries",
            "config-apply-failed",
        ]);
        const own = alarms
            .flatMap((a) => [a.metric, ...(a.metricQueries ?? []).map((q) => q.metric)])
            .filter((m) => m?.namespace === "ReceiverTier/canary");
        for (const metric of own) expect([...POOL_METRICS, ...HOST_METRICS]).toContain(metric?.metricName);
        expect(alarms.find((a) => a.id === "pgbouncer-clients-waiting")?.evaluationPeriods).toBe(3);
    });
});

describe("the dashboard", () => {
    const body = JSON.parse(
        renderDashboard(loadCanary(), "canary", "us-east-1", {
            alb: "app/x/1",
            receiverTargetGroup: "tg/r/2",
            nlb: "net/y/3",
            pgbouncerTargetGroup: "tg/p/4",
        }),
    ) as { widgets: { properties: { metrics: unknown[][]; annotations?: { horizontal: { label: string; value: number }[] } } }[] };

    it("draws only metrics the hosts publish (collector, scripts) or AWS publishes", () => {
        const published = new Set<string>([...POOL_METRICS, ...HOST_METRICS]);
        const ours = body.widgets.flatMap((w) => w.properties.metrics).filter((m) => m[0] === "ReceiverTier/canary");
        expect(ours.length).toBeGreaterThan(5);
        for (const metric of ours) expect(published).toContain(metric[1]);
        const scripts = [
            "host/put-metric.sh",
            "pgbouncer/collect-metrics.sh",
            "pgbouncer/apply-config.sh",
            "pgbouncer/long-query-monitor.sh",
            "receiver/health-metric.sh",
        ]
            .map((f) => fs.readFileSync(path.join(PROJECT_DIR, "files", f), "utf8"))
            .join("\n");
        for (const metric of HOST_METRICS) expect(scripts).toMatch(new RegExp(`receiver-tier-put-metric ${metric} `));
    });

    it("reports a receiver's health with the time the ALB and the launch check allow an answer", () => {
        const script = fs.readFileSync(path.join(PROJECT_DIR, "files/receiver/health-metric.sh"), "utf8");
        expect(script).toContain(`--max-time ${ALB_HEALTH_CHECK.timeout} `);
    });

    it("draws the PostgreSQL-side limits from config as lines", () => {
        const lines = body.widgets.flatMap((w) => w.properties.annotations?.horizontal ?? []);
        expect(lines).toEqual(
            expect.arrayContaining([
                { label: "max_db_connections (per host)", value: 25 },
                { label: "hosts + 1 during a roll x max_db_connections", value: 75 },
                { label: "PostgreSQL budget for PgBouncer", value: 77 },
                { label: "query_wait_timeout", value: 3 },
            ]),
        );
    });
});

describe("logrotate", () => {
    it("keeps monitoring.logRetentionDays of each log and bounds their size", () => {
        const text = renderLogrotate(loadCanaryWith(["monitoring.logRetentionDays", 7]), ["/var/log/a.log", "/var/log/b.log"]);
        expect(text).toMatch(/^\/var\/log\/a\.log \/var\/log\/b\.log \{$/m);
        expect(text).toMatch(/^ {4}rotate 7$/m);
        expect(text).toMatch(/^ {4}maxsize 100M$/m);
    });
});
