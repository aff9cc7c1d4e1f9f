import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parameterNames } from "../../components/model/parameterNames";
import { PGBOUNCER_HEALTH_PORT } from "../../components/model/rollout";
import { signedHeaders } from "../../harness/clients";
import { sleep, waitFor } from "../../harness/wait";
import { webhookSigning } from "../../harness/stack";
import { BootedHost, BootedTier, bootTier } from "../../harness/boot/orchestrate";
import { waitForLifecycle } from "../../harness/boot/report";
import { LifecycleEvent } from "../../harness/boot/standIn";
import { cloudConfigOf, enabledUnits } from "../../harness/boot/userData";

// The canary stack booted for real: one PgBouncer host and one receiver host in Debian 12 containers from
// their launch templates' user data, PostgreSQL 15 with TLS, the stand-in AWS enforcing the instance
// policies. One boot shared by every case (each boot costs about a minute of cloud-init); the restart,
// reboot and config cases change SSM and restart units on the same hosts. The two launch faults boot
// one more host each (the same user data, rendered with a shorter rollout.readinessDeadlineSeconds),
// concurrently, while the other cases run. Then prod boots the same way. Needs root; skipped otherwise.

const asRoot = process.getuid?.() === 0;
const log = (line: string) => process.stderr.write(`boot-test: ${line}\n`);
let tier: BootedTier;
let lifecycle: LifecycleEvent[];
/** The first two hosts, the ones in service: launched fault hosts never are. */
let firstPgbouncer: BootedHost;
let firstReceiver: BootedHost;

/** The fault hosts' readiness deadline: the documented default is 600 s; the same loop, shorter. */
// Long enough for a PgBouncer host's first config apply (a dozen SSM reads through the aws CLI, slow on a
// loaded 2-core runner), so its readiness fails on PostgreSQL itself, not on a health env not yet written.
const FAULT_DEADLINE_SECONDS = 120;
/** Beyond the deadline: the last readiness attempt in progress, its retry delay (5 s), the API call. */
const DEADLINE_SLACK_MS = 30_000;

interface FaultHost {
    readonly host: BootedHost;
    readonly event: LifecycleEvent;
}
/** The two fault hosts: a receiver reading a wrong password from SSM, a PgBouncer host that cannot reach PostgreSQL. */
let faults: Promise<{ wrongPassword: FaultHost; postgresUnreachable: FaultHost }>;
const faultHosts: BootedHost[] = [];

/** Signed POST of body to a receiver host's /webhooks/<source>. */
async function postTo(host: BootedHost, source: string, body: string) {
    const url = `http://${host.container.address}:${tier.cfg.receiver.nginx.port}/webhooks/${source}`;
    const response = await fetch(url, {
        method: "POST",
        body,
        headers: { "Content-Type": "application/json", ...signedHeaders(webhookSigning(tier.cfg, tier.secrets), source, body) },
        signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, body: (await response.json().catch(() => ({}))) as { id?: number } };
}

/** Launches a host and waits for its lifecycle action (bounded: boot + deadline + slack). */
async function launchFault(kind: "pgbouncer" | "receiver", options: Parameters<BootedTier["launch"]>[1]): Promise<FaultHost> {
    const host = await tier.launch(kind, options);
    faultHosts.push(host);
    const bound = 300_000;
    const event = await Promise.race([
        host.lifecycle,
        sleep(bound).then(() => {
            throw new Error(`${host.name}: no lifecycle action within ${bound / 1000} s`);
        }),
    ]);
    log(`${host.name}: lifecycle ${event.result} ${((event.at - host.launchedAt) / 1000).toFixed(1)} s after boot`);
    return { host, event };
}

/** Starts both fault hosts at once; their user data comes from one run of the program. */
function startFaults(): typeof faults {
    const secretsName = parameterNames("canary").receiverSecrets;
    const good = tier.standIn.parameterValue(secretsName) as string;
    const wrong = good.replace(/^DB_PASSWORD=.*$/m, "DB_PASSWORD=not-the-receiver-login-password");
    if (wrong === good) throw new Error(`no DB_PASSWORD line in ${secretsName}`);
    // A new version: the first receiver keeps reading version 1 (its launch template's), the fault host reads 2.
    const version = tier.standIn.putParameter(secretsName, "SecureString", wrong);
    const options = {
        overrides: { rollout: { readinessDeadlineSeconds: FAULT_DEADLINE_SECONDS } },
        parameterVersions: { [secretsName]: version },
    };
    return Promise.all([launchFault("receiver", options), launchFault("pgbouncer", { ...options, postgresUnreachable: true })]).then(
        ([wrongPassword, postgresUnreachable]) => ({ wrongPassword, postgresUnreachable }),
    );
}

describe.skipIf(!asRoot)("canary booted from its user data", () => {
    beforeAll(async () => {
        tier = await bootTier({ stack: "canary", progress: log });
        firstPgbouncer = tier.host("pgbouncer");
        firstReceiver = tier.host("receiver");
        lifecycle = await waitForLifecycle(tier, log);
        for (const event of lifecycle) {
            const host = tier.hosts.find((h) => h.name === event.host);
            log(`boot-to-${event.result} ${event.host}: ${(((event.at - (host?.launchedAt ?? 0)) / 1000) as number).toFixed(1)} s`);
        }
        faults = startFaults();
        // Awaited by the fault cases; a failure here must not be an unhandled rejection meanwhile.
        faults.catch(() => undefined);
        // cloud-init goes on after the lifecycle action (a receiver enables its metrics timer last): its end first.
        for (const host of [firstPgbouncer, firstReceiver]) {
            const done = await host.container.exec("cloud-init status --wait >/dev/null; cloud-init status", 180_000);
            expect(done.stdout, host.name).toMatch(/status: done/);
        }
    }, 900_000);
    afterAll(async () => {
        // A fault launch still in flight finishes (or fails) first, so its container is stopped too.
        await faults?.catch(() => undefined);
        await tier?.stop();
    }, 300_000);

    const pgbouncer = () => firstPgbouncer;
    const receiver = () => firstReceiver;
    const names = () => parameterNames("canary");
    const post = (source: string, body: string) => postTo(receiver(), source, body);

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

    it("from outside the receiver host only nginx answers: Gunicorn listens on 127.0.0.1 behind it", async () => {
        const { address } = receiver().container;
        const viaProxy = await fetch(`http://${address}:${tier.cfg.receiver.nginx.port}${tier.cfg.receiver.healthPath}`, {
            signal: AbortSignal.timeout(10_000),
        });
        expect(viaProxy.status).toBe(200);
        const direct = await fetch(`http://${address}:${tier.cfg.receiver.port}${tier.cfg.receiver.healthPath}`, {
            signal: AbortSignal.timeout(10_000),
        }).then(
            (response) => `answered ${response.status}`,
            (err: Error) => String((err.cause as NodeJS.ErrnoException | undefined)?.code),
        );
        expect(direct).toBe("ECONNREFUSED");
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
            // The timer is what applies a push: active, triggering the config service, every 5 minutes at the
            // host's fixed offset (README "What changes reach running hosts"). Its next run is up to 10 minutes
            // away, beyond this test's budget, so the case starts the unit the timer triggers, as it would.
            const timer = await pgbouncer().container.exec(
                "systemctl show receiver-tier-config.timer -p ActiveState -p Triggers -p TimersCalendar -p RandomizedDelayUSec -p FixedRandomDelay;" +
                    " systemctl show receiver-tier-config.service -p TriggeredBy;" +
                    ' echo "NextIn=$(( $(date -d "$(systemctl show -p NextElapseUSecRealtime --value receiver-tier-config.timer)" +%s) - $(date +%s) ))"',
            );
            const shown = Object.fromEntries(
                timer.stdout
                    .trim()
                    .split("\n")
                    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
            );
            expect(shown.ActiveState, timer.stdout).toBe("active");
            expect(shown.Triggers).toBe("receiver-tier-config.service");
            expect(shown.TriggeredBy).toBe("receiver-tier-config.timer");
            expect(shown.TimersCalendar).toMatch(/OnCalendar=\*-\*-\* \*:00\/5:00/);
            expect(shown.RandomizedDelayUSec).toBe("5min");
            expect(shown.FixedRandomDelay).toBe("yes");
            expect(Number(shown.NextIn)).toBeGreaterThan(0);
            expect(Number(shown.NextIn)).toBeLessThanOrEqual(600);

            tier.standIn.putParameter(names().pgbouncerIni, "String", ini.replace(/^query_wait_timeout = \d+$/m, "query_wait_timeout = 4"));
            const applied = await pgbouncer().container.exec(`systemctl start ${shown.Triggers}`, 120_000);
            expect(applied.code, applied.stderr).toBe(0);
            const config = await client.query("SHOW CONFIG");
            expect(config.rows.find((r) => r.key === "query_wait_timeout")?.value).toBe("4");
            expect((await pgbouncer().container.exec("systemctl show -p MainPID --value pgbouncer")).stdout.trim()).toBe(pidBefore);

            // A broken file: refused on the host, the live file stays, ConfigApplyFailed = 1 published. Only once the
            // fault hosts have booted: a host booting now would fetch this version, which no deploy can publish.
            await faults.catch(() => undefined);
            const live = (await pgbouncer().container.exec("cat /etc/pgbouncer/pgbouncer.ini")).stdout;
            const since = Date.now();
            tier.standIn.putParameter(names().pgbouncerIni, "String", ini.replace("[pgbouncer]", "[pgbouncer]\nno_such_setting = 1"));
            const refused = await pgbouncer().container.exec(`systemctl start ${shown.Triggers}`, 120_000);
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
    }, 600_000);

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

    /** The host's lifecycle action came at its readiness deadline, counted from when its loop started. */
    const expectAbandonAtDeadline = async ({ host, event }: FaultHost) => {
        expect(event.result).toBe("ABANDON");
        expect(tier.standIn.lifecycle.filter((e) => e.instanceId === host.instanceId).map((e) => e.result)).toEqual(["ABANDON"]);
        const launchEnv = await host.container.exec("cat /etc/receiver-tier/launch.env");
        expect(launchEnv.stdout).toMatch(new RegExp(`^READINESS_DEADLINE_SECONDS=${FAULT_DEADLINE_SECONDS}$`, "m"));
        // receiver-tier-complete-launch looks up its group, then starts the deadline.
        const loopStart = tier.standIn.calls.find(
            (c) => c.host === host.name && c.action === "autoscaling:DescribeAutoScalingInstances" && c.allowed,
        );
        expect(loopStart, `${host.name} never looked up its group`).toBeDefined();
        const waited = event.at - (loopStart?.at ?? 0);
        log(
            `${host.name}: ABANDON ${(waited / 1000).toFixed(1)} s after its readiness loop started (deadline ${FAULT_DEADLINE_SECONDS} s)`,
        );
        expect(waited).toBeGreaterThanOrEqual(FAULT_DEADLINE_SECONDS * 1000);
        expect(waited).toBeLessThan(FAULT_DEADLINE_SECONDS * 1000 + DEADLINE_SLACK_MS);
        const journal = await host.container.exec("journalctl -t receiver-tier-launch --no-pager -o cat");
        expect(journal.stdout).toMatch(/readiness: ABANDON \(/);
        expect(journal.stdout).not.toMatch(/readiness: CONTINUE/);
        return journal.stdout;
    };

    it("a wrong receiver password in SSM: the new receiver host ABANDONs its launch at its deadline and serves nothing", async () => {
        const { wrongPassword } = await faults;
        const { host } = wrongPassword;
        const journal = await expectAbandonAtDeadline(wrongPassword);
        log(`${host.name}: ${journal.trim()}`);
        // It read the new (wrong) version of its secrets, and PgBouncer refused the login.
        const secretsRead = tier.standIn.calls.filter((c) => c.host === host.name && c.action === "ssm:GetParameter" && c.allowed);
        expect(secretsRead.length).toBeGreaterThan(0);
        const health = await fetch(`http://${host.container.address}:${tier.cfg.receiver.nginx.port}${tier.cfg.receiver.healthPath}`, {
            signal: AbortSignal.timeout(10_000),
        }).catch(() => undefined);
        expect(health?.status).not.toBe(200);
        const answer = await postTo(host, "boot-wrong-password", '{"n":3}').catch(() => ({ status: 0 }));
        expect(answer.status).not.toBe(202);
        const rows = await tier.primary.cluster.query(
            `SELECT id FROM webhook_receiver.webhook_events WHERE source = 'boot-wrong-password'`,
            tier.cfg.postgres.database,
        );
        expect(rows).toEqual([]);
    }, 360_000);

    it("PostgreSQL unreachable at boot: the new PgBouncer host ABANDONs its launch at its deadline, its NLB check unhealthy", async () => {
        const { postgresUnreachable } = await faults;
        const { host } = postgresUnreachable;
        const journal = await expectAbandonAtDeadline(postgresUnreachable);
        log(`${host.name}: ${journal.trim()}`);
        // The readiness can only name PostgreSQL once the boot's config apply wrote the health env: say how it went.
        const applied = await host.container.exec(
            "tail -n 40 /var/log/cloud-init-output.log; journalctl -t receiver-tier-config --no-pager -o cat",
        );
        log(`${host.name}: config apply at boot:\n${applied.stdout.trim()}`);
        expect(journal).toMatch(/unhealthy/);
        const response = await fetch(`http://${host.container.address}:${PGBOUNCER_HEALTH_PORT}/`, { signal: AbortSignal.timeout(15_000) });
        expect(response.status).toBe(503);
        // The hosts in service are untouched by both faults.
        expect((await post("boot-after-faults", '{"n":4}')).status).toBe(202);
        await Promise.all(faultHosts.splice(0).map((h) => tier.retire(h)));
    }, 360_000);
});

// prod's hosts from prod's own user data (3 PgBouncer hosts and 6 receivers in its groups; one of each
// boots here). Its stack file's placeholders: postgres.caBundle is the boot's test CA, as for canary; the
// receiver.app.artifactUrl object is served by the stand-in S3 (the reference receiver packaged as
// that artifact); aws.certificateArn and the zones only reach the ALB and Route 53, which no host calls.
describe.skipIf(!asRoot)("prod booted from its user data", () => {
    let prod: BootedTier;
    let events: LifecycleEvent[];
    beforeAll(async () => {
        prod = await bootTier({ stack: "prod", progress: log });
        events = await waitForLifecycle(prod, log);
    }, 900_000);
    afterAll(async () => {
        await prod?.stop();
    }, 300_000);

    it("both hosts complete their launch lifecycle action with CONTINUE and a signed webhook is stored", async () => {
        expect(events.map((e) => `${e.host} ${e.result}`).sort()).toEqual(["pgbouncer-1 CONTINUE", "receiver-2 CONTINUE"]);
        const receiver = prod.host("receiver");
        const body = '{"event":"order.created","order_id":43}';
        const response = await fetch(`http://${receiver.container.address}:${prod.cfg.receiver.nginx.port}/webhooks/boot-prod`, {
            method: "POST",
            body,
            headers: { "Content-Type": "application/json", ...signedHeaders(webhookSigning(prod.cfg, prod.secrets), "boot-prod", body) },
            signal: AbortSignal.timeout(10_000),
        });
        expect(response.status).toBe(202);
        const rows = await prod.primary.cluster.query(
            `SELECT id FROM webhook_receiver.webhook_events WHERE source = 'boot-prod'`,
            prod.cfg.postgres.database,
        );
        expect(rows.length).toBe(1);
        expect(prod.standIn.calls.filter((c) => !c.allowed && c.service !== "imds")).toEqual([]);
    });
});
