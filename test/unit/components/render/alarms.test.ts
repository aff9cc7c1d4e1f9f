import { describe, expect, it } from "vitest";
import { alarmThresholds, renderAlarms } from "../../../../components/render/alarms";
import { HOST_METRICS, POOL_METRICS } from "../../../../components/model/names";
import { loadCanary, loadCanaryWith } from "../../support/stackConfig";
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
