import { execFileSync } from "child_process";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { POOL_METRICS } from "../../../../components/model/names";
import { PROJECT_DIR } from "../../support/stackConfig";

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
