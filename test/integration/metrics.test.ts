import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderPgbouncerHealthEnv } from "../../components/render/pgbouncerHealth";
import { endQuietly, loadTierConfig, sleep, startTier, Tier, TEST_SECRETS } from "../../harness";
import { PROJECT_DIR } from "../../runtime/projectDir";

// The PgBouncer host's metrics collector (files/pgbouncer/collect-metrics.sh with the Python parser),
// run for real against the real PgBouncer while clients queue for its few server connections;
// `aws` is a stub that keeps the put-metric-data payloads.

const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-metrics-"));
const bin = path.join(sandbox, "bin");
const payloads = path.join(sandbox, "payloads");
afterAll(() => fs.rmSync(sandbox, { recursive: true, force: true }));

interface Datum {
    MetricName: string;
    Value: number;
    Dimensions?: { Name: string; Value: string }[];
}

describe("collect-metrics.sh against the real PgBouncer under a burst", () => {
    const cfg = loadTierConfig("local", { pgbouncer: { settings: { default_pool_size: 3, reserve_pool_size: 1, min_pool_size: 0 } } });
    const cap = cfg.pgbouncer.settings.default_pool_size + cfg.pgbouncer.settings.reserve_pool_size;
    let tier: Tier;
    const clients: Client[] = [];

    beforeAll(async () => {
        tier = await startTier({ cfg });
        fs.mkdirSync(bin, { recursive: true });
        fs.mkdirSync(payloads, { recursive: true });
        for (const [command, file] of [
            ["receiver-tier-host-id", "host/host-id.sh"],
            ["receiver-tier-put-metric", "host/put-metric.sh"],
            ["receiver-tier-pgbouncer-health", "pgbouncer/pgbouncer-health.sh"],
        ]) {
            fs.symlinkSync(path.join(PROJECT_DIR, "files", file as string), path.join(bin, command as string));
        }
        // aws cloudwatch put-metric-data ... --metric-data JSON: one file per call.
        fs.writeFileSync(
            path.join(bin, "aws"),
            '#!/bin/sh\necho "$*" >"$PAYLOADS/$(date +%s%N).args"\nwhile [ "$1" != "--metric-data" ]; do shift; done\nprintf %s "$2" >"$PAYLOADS/$(date +%s%N).json"\n',
            { mode: 0o755 },
        );
        fs.writeFileSync(path.join(sandbox, "metrics.env"), "AWS_REGION=us-east-1\nMETRICS_NAMESPACE=ReceiverTier/it\n");
        fs.writeFileSync(
            path.join(sandbox, "health.env"),
            renderPgbouncerHealthEnv(cfg, TEST_SECRETS).replace(/^PGPORT=.*$/m, `PGPORT=${tier.pgbouncer.port}`),
        );
    });
    afterAll(async () => {
        await Promise.all(clients.map((c) => endQuietly(c)));
        await tier?.stop();
    });

    it("reports clients waiting and server connections within default_pool_size + reserve_pool_size, and the host healthy", async () => {
        for (let i = 0; i < 3 * cap; i++) clients.push(await tier.receiver());
        const burst = clients.map((c) => c.query("SELECT pg_sleep(4)").catch(() => undefined));
        // reserve_pool_timeout (1 s) passes, so the reserve is in use too.
        await sleep(1500);
        const result = spawnSync("sh", [path.join(PROJECT_DIR, "files/pgbouncer/collect-metrics.sh")], {
            env: {
                ...process.env,
                PATH: `${bin}:${process.env.PATH}`,
                PAYLOADS: payloads,
                RECEIVER_TIER_HOST_ID: "i-0test",
                RECEIVER_TIER_METRICS_ENV: path.join(sandbox, "metrics.env"),
                RECEIVER_TIER_HEALTH_ENV: path.join(sandbox, "health.env"),
                RECEIVER_TIER_COLLECTOR: path.join(PROJECT_DIR, "files/pgbouncer/pgbouncer-metrics.py"),
            },
            encoding: "utf8",
            timeout: 30_000,
        });
        await Promise.all(burst);
        expect(result.status, result.stderr).toBe(0);

        const calls = fs
            .readdirSync(payloads)
            .filter((f) => f.endsWith(".args"))
            .map((f) => fs.readFileSync(path.join(payloads, f), "utf8"));
        for (const call of calls) expect(call).toMatch(/^cloudwatch put-metric-data --region us-east-1 --namespace ReceiverTier\/it /);
        const data: Datum[] = fs
            .readdirSync(payloads)
            .filter((f) => f.endsWith(".json"))
            .flatMap((f) => JSON.parse(fs.readFileSync(path.join(payloads, f), "utf8")) as Datum[]);
        const fleet = (metric: string) =>
            data.find((d) => d.MetricName === metric && d.Dimensions?.length === 1 && d.Dimensions[0]?.Name === "Database")?.Value;
        const onHost = (metric: string) => data.find((d) => d.MetricName === metric && d.Dimensions?.some((x) => x.Value === "i-0test"));

        expect(fleet("ClientsWaiting")).toBeGreaterThan(0);
        expect(fleet("ServersActive")).toBeGreaterThan(0);
        expect(fleet("ServersActive")).toBeLessThanOrEqual(cap);
        expect(fleet("ServerConnections")).toBeLessThanOrEqual(cap);
        expect(fleet("MaxWaitSeconds")).toBeGreaterThan(0);
        expect(onHost("ClientsWaiting")).toBeDefined();
        expect(onHost("PgbouncerHostHealthy")?.Value).toBe(1);
        expect(JSON.stringify(data)).not.toContain(TEST_SECRETS.statsPasswordA);
    });
});
