import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parameterNames } from "../../components/model/parameterNames";
import { PGBOUNCER_HEALTH_PORT } from "../../components/model/rollout";
import { signedHeaders } from "../../harness/clients";
import { sleep, waitFor } from "../../harness/wait";
import { webhookSigning } from "../../harness/stack";
import { BootedTier, bootTier } from "../../harness/boot/orchestrate";
import { waitForLifecycle } from "../../harness/boot/report";
import { LifecycleEvent } from "../../harness/boot/standIn";
import { cloudConfigOf, enabledUnits } from "../../harness/boot/userData";

// The canary stack booted for real: one PgBouncer host and one receiver host in Debian 12 containers from
// their launch templates' user data, PostgreSQL 15 with TLS, the stand-in AWS enforcing the instance
// policies. One boot shared by every case (each boot costs about a minute of cloud-init); the fault cases
// change SSM and restart units on the same hosts. Needs root; skipped otherwise.

const asRoot = process.getuid?.() === 0;
const log = (line: string) => process.stderr.write(`boot-test: ${line}\n`);
let tier: BootedTier;
let lifecycle: LifecycleEvent[];

describe.skipIf(!asRoot)("canary booted from its user data", () => {
    beforeAll(async () => {
        tier = await bootTier({ stack: "canary", progress: log });
        lifecycle = await waitForLifecycle(tier, log);
        for (const event of lifecycle) {
            const host = tier.hosts.find((h) => h.name === event.host);
            log(`boot-to-${event.result} ${event.host}: ${(((event.at - (host?.launchedAt ?? 0)) / 1000) as number).toFixed(1)} s`);
        }
    }, 900_000);
    afterAll(async () => {
        await tier?.stop();
    }, 300_000);

    const pgbouncer = () => tier.host("pgbouncer");
    const receiver = () => tier.host("receiver");
    const names = () => parameterNames("canary");
    const post = async (source: string, body: string) => {
        const { healthUrl } = tier.outputs();
        const url = healthUrl.replace(tier.cfg.receiver.healthPath, `/webhooks/${source}`);
        const response = await fetch(url, {
            method: "POST",
            body,
            headers: { "Content-Type": "application/json", ...signedHeaders(webhookSigning(tier.cfg, tier.secrets), source, body) },
            signal: AbortSignal.timeout(10_000),
        });
        return { status: response.status, body: (await response.json()) as { id?: number } };
    };

    it("both hosts complete their launch lifecycle action with CONTINUE", () => {
        expect(lifecycle.map((e) => `${e.host} ${e.result}`).sort()).toEqual(["pgbouncer-1 CONTINUE", "receiver-2 CONTINUE"]);
    });

    it("webhook-receiver starts on first boot: secrets.env, written by ExecStartPre, is loaded only after it exists (EnvironmentFile=-)", async () => {
        const states = await receiver().container.unitStates(["webhook-receiver.service"]);
        expect(states["webhook-receiver.service"]).toBe("active");
        const journal = await receiver().container.exec("journalctl -u webhook-receiver --no-pager");
        expect(journal.stdout).not.toMatch(/Failed to load environment files/);
    });

    it("pgbouncer, webhook-receiver and every unit the user data enables are active", async () => {
        for (const host of [pgbouncer(), receiver()]) {
            const units = [
                ...enabledUnits(cloudConfigOf(host.fleet.userDataBase64)),
                ...(host.kind === "receiver" ? ["webhook-receiver.service"] : []),
            ];
            expect(units.length).toBeGreaterThan(0);
            const states = await host.container.unitStates(units);
            expect(states, host.name).toEqual(Object.fromEntries(units.map((u) => [u, "active"])));
        }
    });

    it("each host completes its lifecycle action only after its own readiness check passed", async () => {
        for (const host of [pgbouncer(), receiver()]) {
            const journal = await host.container.exec("journalctl -t receiver-tier-launch --no-pager -o cat");
            expect(journal.stdout, host.name).toMatch(/readiness: CONTINUE \(/);
            expect(journal.stdout).not.toMatch(/readiness: ABANDON/);
        }
        // The receiver's readiness is its health check, which logs in through PgBouncer: its own secrets came first.
        const receiverCalls = tier.standIn.calls.filter((c) => c.host === receiver().name);
        const secretsRead = receiverCalls.findIndex((c) => c.action === "ssm:GetParameter" && c.allowed);
        const completed = receiverCalls.findIndex((c) => c.action === "autoscaling:CompleteLifecycleAction");
        expect(secretsRead).toBeGreaterThanOrEqual(0);
        expect(completed).toBeGreaterThan(secretsRead);
        expect(tier.standIn.calls.filter((c) => !c.allowed && c.service !== "imds")).toEqual([]);
    });

    it("a signed webhook posted to the receiver host is stored in PostgreSQL through the PgBouncer host, TLS verify-full on both hops", async () => {
        const answer = await post("boot-test", '{"event":"order.created","order_id":42}');
        expect(answer.status).toBe(202);
        const rows = await tier.primary.cluster.query(
            `SELECT id FROM webhook_receiver.webhook_events WHERE source = 'boot-test'`,
            tier.cfg.postgres.database,
        );
        expect(rows.map((r) => Number(r.id))).toContain(answer.body.id);
        // PgBouncer -> PostgreSQL: every server connection from the PgBouncer host is TLS.
        const ssl = await tier.primary.cluster.query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.client_addr = $1",
            "postgres",
            [pgbouncer().container.address],
        );
        expect(ssl.length).toBeGreaterThan(0);
        expect(ssl.every((r) => r.ssl === true)).toBe(true);
        const ini = await pgbouncer().container.exec("cat /etc/pgbouncer/pgbouncer.ini");
        expect(ini.stdout).toMatch(/^server_tls_sslmode = verify-full$/m);
        // Receiver -> PgBouncer: the receiver's clients verify the stack's PgBouncer CA and name.
        const env = await receiver().container.exec("cat /etc/webhook-receiver/receiver.env");
        expect(env.stdout).toMatch(/^DB_SSLMODE=verify-full$/m);
        const clients = await pgbouncer().container.exec(
            `. /etc/receiver-tier/pgbouncer-health.env; export PGHOST PGPORT PGSSLMODE PGSSLROOTCERT; PGUSER=$STATS_USER PGPASSWORD=$STATS_PASSWORD psql -X -A -t -d pgbouncer -c 'SHOW CLIENTS' 2>&1`,
        );
        const receiverClients = clients.stdout.split("\n").filter((l) => l.includes(receiver().container.address));
        expect(receiverClients.length, clients.stdout).toBeGreaterThan(0);
        expect(receiverClients.every((l) => /TLSv1\.[23]/.test(l))).toBe(true);
    });

    it("the PgBouncer host's health check (the NLB's) answers healthy", async () => {
        const response = await fetch(`http://${pgbouncer().container.address}:${PGBOUNCER_HEALTH_PORT}/`, {
            signal: AbortSignal.timeout(10_000),
        });
        expect(response.status).toBe(200);
        expect((await response.text()).trim()).toBe("healthy");
    });

    it("PutMetricData with the documented metric names arrives within two minutes", async () => {
        const wanted = ["PgbouncerHostHealthy", "ClientsActive", "ConfigApplyFailed", "ReceiverHealthy"];
        await waitFor(
            "the hosts' metrics",
            120_000,
            () => (wanted.every((m) => tier.standIn.metrics.some((r) => r.metricName === m)) ? true : undefined),
            1000,
        );
        const namespace = tier.cfg.monitoring.namespace ?? "ReceiverTier/canary";
        expect(tier.standIn.metrics.every((m) => m.namespace === namespace)).toBe(true);
        expect(
            tier.standIn.metrics.find((m) => m.metricName === "PgbouncerHostHealthy" && m.dimensions.Host === pgbouncer().instanceId)
                ?.value,
        ).toBe(1);
        expect(
            tier.standIn.metrics.find((m) => m.metricName === "ReceiverHealthy" && m.dimensions.Host === receiver().instanceId)?.value,
        ).toBe(1);
    }, 150_000);

    it("restarting webhook-receiver fetches the secrets again and serves again", async () => {
        const reads = () => tier.standIn.calls.filter((c) => c.host === receiver().name && c.action === "ssm:GetParameter").length;
        const before = reads();
        const restarted = await receiver().container.exec("systemctl restart webhook-receiver.service");
        expect(restarted.code, restarted.stderr).toBe(0);
        expect(reads()).toBeGreaterThan(before);
        await waitFor(
            "a healthy receiver after the restart",
            60_000,
            async () => ((await post("boot-restart", '{"n":1}')).status === 202 ? true : undefined),
            1000,
        );
    });

    it("a new pgbouncer.ini version reaches the host through its timer's service and is reloaded with connected clients kept", async () => {
        const ini = tier.standIn.parameterValue(names().pgbouncerIni) as string;
        const client = new Client({
            host: pgbouncer().container.address,
            port: tier.cfg.pgbouncer.port,
            user: tier.cfg.pgbouncer.statsUser + "_a",
            password: tier.secrets.statsPasswordA,
            database: "pgbouncer",
            ssl: { ca: tier.standIn.parameterValue(names().pgbouncerTlsCa), servername: tier.cfg.pgbouncer.dnsName },
        });
        await client.connect();
        try {
            const pidBefore = (await pgbouncer().container.exec("systemctl show -p MainPID --value pgbouncer")).stdout.trim();
            tier.standIn.putParameter(names().pgbouncerIni, "String", ini.replace(/^query_wait_timeout = \d+$/m, "query_wait_timeout = 4"));
            const applied = await pgbouncer().container.exec("systemctl start receiver-tier-config.service", 120_000);
            expect(applied.code, applied.stderr).toBe(0);
            const shown = await client.query("SHOW CONFIG");
            expect(shown.rows.find((r) => r.key === "query_wait_timeout")?.value).toBe("4");
            expect((await pgbouncer().container.exec("systemctl show -p MainPID --value pgbouncer")).stdout.trim()).toBe(pidBefore);

            // A broken file: refused on the host, the live file stays, ConfigApplyFailed = 1 published.
            const live = (await pgbouncer().container.exec("cat /etc/pgbouncer/pgbouncer.ini")).stdout;
            const since = Date.now();
            tier.standIn.putParameter(names().pgbouncerIni, "String", ini.replace("[pgbouncer]", "[pgbouncer]\nno_such_setting = 1"));
            const refused = await pgbouncer().container.exec("systemctl start receiver-tier-config.service", 120_000);
            expect(refused.code).not.toBe(0);
            expect((await pgbouncer().container.exec("cat /etc/pgbouncer/pgbouncer.ini")).stdout).toBe(live);
            await waitFor("ConfigApplyFailed = 1", 30_000, () =>
                tier.standIn.metrics.some((m) => m.metricName === "ConfigApplyFailed" && m.value === 1 && m.at >= since) ? true : undefined,
            );
            expect((await client.query("SHOW VERSION")).rows.length).toBe(1);
        } finally {
            await client.end().catch(() => undefined);
            tier.standIn.putParameter(names().pgbouncerIni, "String", ini);
        }
    }, 300_000);

    it("rebooting the receiver container fetches the secrets again and serves again", async () => {
        const reads = () => tier.standIn.calls.filter((c) => c.host === receiver().name && c.action === "ssm:GetParameter").length;
        const before = reads();
        await receiver().container.reboot();
        await waitFor(
            "a healthy receiver after the reboot",
            120_000,
            async () => ((await post("boot-reboot", '{"n":2}').catch(() => ({ status: 0 }))).status === 202 ? true : undefined),
            2000,
        );
        expect(reads()).toBeGreaterThan(before);
        await sleep(0);
    }, 200_000);
});
