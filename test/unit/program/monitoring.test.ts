import { describe, expect, it, vi } from "vitest";
import { byName, byType, cloudInitFiles, launchTemplateText, nonSecretStrings, plain, ProgramRun, runProgram, stackRun } from "./mockTier";

const alarmsOf = (run: ProgramRun) =>
    byType(run, "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => plain(a.inputs) as Record<string, any>);

describe.each(["canary", "prod"] as const)("monitoring of stack %s", (stack) => {
    const load = () => stackRun(stack);

    it("raises nine alarms, each notifying the stack's SNS topic on alarm and on recovery", async () => {
        const r = await load();
        const alarms = alarmsOf(r);
        expect(alarms).toHaveLength(9);
        const topic = `<arn of ${stack}-monitoring-alarms>`;
        for (const alarm of alarms) {
            expect(alarm.name).toMatch(new RegExp(`^${stack}-`));
            expect(alarm.alarmActions).toEqual([topic]);
            expect(alarm.okActions).toEqual([topic]);
        }
        expect(byType(r, "aws:sns/topic:Topic")).toHaveLength(1);
    });

    it("subscribes the stack file's alarm subscriber to the stack's topic, as a child of the monitoring component", async () => {
        const r = await load();
        const subscriptions = byType(r, "aws:sns/topicSubscription:TopicSubscription");
        expect(subscriptions.map((s) => plain(s.inputs))).toEqual([
            { topic: `<arn of ${stack}-monitoring-alarms>`, protocol: "email", endpoint: expect.stringMatching(/@deltacrown\.gg$/) },
        ]);
        expect(subscriptions[0]?.parentUrn).toMatch(new RegExp(`receiver-tier:aws:Monitoring::${stack}-monitoring$`));
    });

    it("keys the AWS metrics by the real load balancers and the custom ones by the pool's database", async () => {
        const alarms = alarmsOf(await load());
        const byId = (id: string) => alarms.find((a) => a.name === `${stack}-${id}`) as Record<string, any>;
        expect(byId("pgbouncer-healthy-below-desired").dimensions).toEqual({
            LoadBalancer: `<arnSuffix of ${stack}-pgbouncer-nlb>`,
            TargetGroup: `<arnSuffix of ${stack}-pgbouncer-tg>`,
        });
        expect(byId("pgbouncer-clients-waiting")).toMatchObject({
            namespace: `ReceiverTier/${stack}`,
            metricName: "ClientsWaiting",
            dimensions: { Database: "deltacrown_receiver" },
        });
        expect(byId("receivers-5xx-rate").metricQueries.find((q: { id: string }) => q.id === "rate").returnData).toBe(true);
    });

    it("has a dashboard and exports its URL", async () => {
        const r = await load();
        const dashboard = plain(byName(r, `${stack}-monitoring-dashboard`).inputs) as Record<string, any>;
        expect(dashboard.dashboardName).toBe(`receiver-tier-${stack}`);
        expect(JSON.parse(dashboard.dashboardBody).widgets.length).toBeGreaterThan(5);
        expect(r.outputs.dashboardUrl).toBe(
            `https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=receiver-tier-${stack}`,
        );
    });

    it("lets both fleets publish metrics to the stack's namespace only", async () => {
        const r = await load();
        for (const fleet of ["pgbouncer", "receivers"]) {
            const policy = JSON.parse((plain(byName(r, `${stack}-${fleet}-instance-read`).inputs) as { policy: string }).policy);
            expect(policy.Statement).toContainEqual({
                Effect: "Allow",
                Action: ["cloudwatch:PutMetricData"],
                Resource: "*",
                Condition: { StringEquals: { "cloudwatch:namespace": `ReceiverTier/${stack}` } },
            });
        }
    });

    it("runs the collector and the metrics timer on the hosts, and rotates their logs", async () => {
        const r = await load();
        const userData = (name: string) => launchTemplateText((plain(byName(r, name).inputs) as { userData: string }).userData);
        const pgbouncer = cloudInitFiles(userData(`${stack}-pgbouncer-hosts-lt`));
        expect(pgbouncer.get("/usr/local/lib/receiver-tier/pgbouncer-metrics.py")).toContain("def metric_data");
        expect(pgbouncer.get("/etc/receiver-tier/managed-files")).toContain(
            `/receiver-tier/${stack}/pgbouncer/logrotate /etc/logrotate.d/pgbouncer`,
        );
        expect(byName(r, `${stack}-pgbouncer-logrotate`).inputs.insecureValue).toContain("/var/log/postgresql/pgbouncer.log {");
        const receivers = cloudInitFiles(userData(`${stack}-receivers-hosts-lt`));
        expect(receivers.get("/etc/logrotate.d/webhook-receiver")).toMatch(/access\.log .*error\.log \{[\s\S]*rotate 14/);
        expect(receivers.get("/etc/receiver-tier/metrics.env")).toContain(`METRICS_NAMESPACE=ReceiverTier/${stack}`);
        expect(userData(`${stack}-receivers-hosts-lt`)).toContain("receiver-tier-metrics.timer");
    });
});

describe("monitoring of a stack that names its alarm topic", () => {
    it("notifies an existing topic and subscribes no e-mail when the stack names one", async () => {
        vi.resetModules();
        const run = await runProgram("canary", (raw) => {
            raw.monitoring = { alarmTopicArn: "arn:aws:sns:us-east-1:111111111111:ops" };
        });
        expect(byType(run, "aws:sns/topic:Topic")).toEqual([]);
        for (const alarm of alarmsOf(run)) expect(alarm.alarmActions).toEqual(["arn:aws:sns:us-east-1:111111111111:ops"]);
        expect(
            nonSecretStrings(run.outputs)
                .map(([, v]) => v)
                .join(" "),
        ).not.toMatch(/PASSWORD|SCRAM-SHA-256/);
    });
});

describe("alarm subscribers of a stack", () => {
    const pager = { protocol: "https", endpoint: "https://pager.example.com/sns" };
    const queue = { protocol: "sqs", endpoint: "arn:aws:sqs:us-east-1:111111111111:alarms" };
    const subscriptionsOf = async (subscribers: object[]) => {
        vi.resetModules();
        const run = await runProgram("canary", (raw) => {
            raw.monitoring = { alarmSubscribers: subscribers };
        });
        return byType(run, "aws:sns/topicSubscription:TopicSubscription").map((s) => [s.name, plain(s.inputs)] as const);
    };

    it("makes one subscription each, named by its endpoint, so reordering the list replaces none", async () => {
        const listed = await subscriptionsOf([pager, queue]);
        expect(listed.map(([, inputs]) => inputs)).toEqual([
            { topic: "<arn of canary-monitoring-alarms>", ...pager },
            { topic: "<arn of canary-monitoring-alarms>", ...queue },
        ]);
        expect(listed.map(([name]) => name)).toEqual([
            expect.stringMatching(/^canary-monitoring-alarms-https-[0-9a-f]{8}$/),
            expect.stringMatching(/^canary-monitoring-alarms-sqs-[0-9a-f]{8}$/),
        ]);
        const reordered = await subscriptionsOf([queue, pager]);
        expect(new Map(reordered)).toEqual(new Map(listed));
    });
});
