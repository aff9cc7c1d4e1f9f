import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { renderDashboard } from "../../../../components/render/dashboard";
import { HOST_METRICS, POOL_METRICS } from "../../../../components/model/names";
import { ALB_HEALTH_CHECK } from "../../../../components/model/rollout";
import { loadCanary, PROJECT_DIR } from "../../support/stackConfig";
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
