import { beforeAll, describe, expect, it } from "vitest";
import { roleSecret } from "../../../components/render/userlist";
import { parseTierConfig } from "../../../components/config/load";
import { readStackFile } from "../../../components/config/stackFile";
import {
    byName,
    byType,
    cloudInitFiles,
    isSecretValue,
    plain,
    PROJECT_DIR,
    ProgramRun,
    renderedFiles,
    runProgram,
    TEST_SECRETS,
} from "./mockTier";

let run: ProgramRun;
const files = renderedFiles("canary");
const inputs = (name: string) => plain(byName(run, name).inputs) as Record<string, any>;

beforeAll(async () => {
    run = await runProgram("canary");
});

describe("canary: PostgreSQL settings", () => {
    it("gives the receiver role the runbook's 5 s statement timeout and the userlist secret as password", () => {
        const role = byName(run, "canary-postgres-receiver");
        const values = plain(role.inputs) as Record<string, unknown>;
        expect(values.name).toBe("webhook_receiver");
        expect(values.login).toBe(true);
        expect(values.statementTimeout).toBe(5000);
        expect(values.idleInTransactionSessionTimeout).toBe(10_000);
        expect(values.connectionLimit).toBe(2 * (25 + 10));
        expect(isSecretValue(role.inputs.password)).toBe(true);
        const { config } = parseTierConfig(readStackFile(PROJECT_DIR, "canary").raw);
        const secret = roleSecret(config, "webhook_receiver", TEST_SECRETS.receiverPassword);
        expect(secret).toMatch(/^SCRAM-SHA-256\$4096:/);
        expect(values.password).toBe(secret);
        expect(files["userlist.txt"]).toContain(`"webhook_receiver" "${secret}"`);
    });

    it("sets the database statement_timeout through the dynamic provider", () => {
        const setting = inputs("canary-postgres-database-statement-timeout");
        expect(setting).toMatchObject({ database: "deltacrown", name: "statement_timeout", value: "5s" });
        expect(setting.connection).toMatchObject({ host: "postgres-primary.internal", port: 5432, user: "postgres", sslmode: "require" });
    });

    it("gives the monitoring role pg_monitor and a connection limit", () => {
        expect(inputs("canary-postgres-monitor")).toMatchObject({
            name: "receiver_monitor",
            login: true,
            roles: ["pg_monitor"],
            statementTimeout: 30_000,
        });
        expect(inputs("canary-postgres-stats")).toMatchObject({ name: "pgbouncer_stats", login: false });
    });

    it("connects the provider with the stack's admin settings", () => {
        expect(inputs("canary-postgres-provider")).toMatchObject({
            host: "postgres-primary.internal",
            port: "5432",
            username: "postgres",
            sslmode: "require",
        });
    });
});

describe("canary: PgBouncer hosts", () => {
    it("runs pgbouncer.hosts instances with IMDSv2 and encrypted volumes", () => {
        const hosts = byType(run, "aws:ec2/instance:Instance").map((h) => plain(h.inputs) as Record<string, any>);
        expect(hosts).toHaveLength(2);
        for (const host of hosts) {
            expect(host.metadataOptions.httpTokens).toBe("required");
            expect(host.rootBlockDevice.encrypted).toBe(true);
            expect(host.instanceType).toBe("t3.small");
        }
        expect(new Set(hosts.map((h) => h.subnetId)).size).toBe(2);
    });

    it("keeps pgbouncer.ini in SSM byte for byte as `render` writes it, and the userlist as a SecureString", () => {
        // insecureValue: reviewers see the ini in preview diffs (the provider hides `value`).
        const ini = byName(run, "canary-pgbouncer-ini");
        expect(ini.inputs).toMatchObject({
            name: "/receiver-tier/canary/pgbouncer/pgbouncer.ini",
            type: "String",
            insecureValue: files["pgbouncer.ini"],
        });
        const userlist = byName(run, "canary-pgbouncer-userlist");
        expect(isSecretValue(userlist.inputs.value)).toBe(true);
        expect(plain(userlist.inputs)).toMatchObject({ type: "SecureString", value: files["userlist.txt"] });
    });

    it("delivers the monitor's files through SSM too, and lets the hosts read exactly those parameters", () => {
        expect(byName(run, "canary-pgbouncer-monitor-timer").inputs.insecureValue).toContain("OnUnitActiveSec=5min");
        expect(byName(run, "canary-pgbouncer-monitor-sql").inputs.insecureValue).toContain("interval '10 seconds'");
        const policy = JSON.parse(inputs("canary-pgbouncer-instance-read").policy as string);
        expect(policy.Statement).toEqual([
            {
                Effect: "Allow",
                Action: ["ssm:GetParameter"],
                Resource: ["ini", "userlist", "monitor-password", "monitor-env", "monitor-sql", "monitor-timer"].map(
                    (p) => `<arn of canary-pgbouncer-${p}>`,
                ),
            },
        ]);
        expect(byType(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual([]);
    });

    it("ships the systemd drop-in and the config poller in user data, and no secret or config", () => {
        const host = inputs("canary-pgbouncer-host-1");
        const written = cloudInitFiles(host.userData as string);
        expect(written.get("/etc/systemd/system/pgbouncer.service.d/override.conf")).toMatch(/LimitNOFILE=65536[\s\S]*Restart=on-failure/);
        expect(written.get("/etc/systemd/system/receiver-tier-config.timer")).toContain("OnUnitActiveSec=60s");
        expect(written.get("/etc/receiver-tier/managed-files")).toContain(
            "/receiver-tier/canary/pgbouncer/pgbouncer.ini /etc/pgbouncer/pgbouncer.ini 0640 postgres:postgres pgbouncer",
        );
        expect(host.userData).not.toContain("[pgbouncer]");
        expect(host.userData).not.toMatch(/SCRAM-SHA-256\$|md5[0-9a-f]{32}/);
        expect(host.userDataReplaceOnChange).toBe(true);
    });

    it("puts the hosts behind an internal NLB named pgbouncer.internal", () => {
        expect(inputs("canary-pgbouncer-nlb")).toMatchObject({ internal: true, loadBalancerType: "network" });
        expect(byType(run, "aws:lb/targetGroupAttachment:TargetGroupAttachment")).toHaveLength(2);
        expect(inputs("canary-pgbouncer-dns")).toMatchObject({ name: "pgbouncer.internal", type: "A", zoneId: "Z0C0FFEE0C0FFE1" });
    });
});

describe("canary: security groups", () => {
    const rules = (type: string): Record<string, any>[] =>
        byType(run, type).map((r) => ({ name: r.name, ...(plain(r.inputs) as Record<string, any>) }));

    it("admits 6432 only from the receivers and the NLB", () => {
        const pgbouncerIngress = rules("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.fromPort === 6432);
        expect(pgbouncerIngress.map((r) => r.name).sort()).toEqual([
            "canary-sg-nlb-from-receivers",
            "canary-sg-pgbouncer-from-nlb",
            "canary-sg-pgbouncer-from-receivers",
        ]);
        for (const rule of pgbouncerIngress) {
            expect(rule.cidrIpv4).toBeUndefined();
            expect(rule.referencedSecurityGroupId).toBeDefined();
        }
    });

    it("opens only the ALB to the internet", () => {
        const open = rules("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.cidrIpv4 === "0.0.0.0/0");
        expect(open.map((r) => [r.name, r.fromPort])).toEqual([
            ["canary-sg-alb-https-in", 443],
            ["canary-sg-alb-http-in", 80],
        ]);
    });

    it("lets PgBouncer reach PostgreSQL on its port only", () => {
        const egress = rules("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").filter((r) =>
            r.name.startsWith("canary-sg-pgbouncer-"),
        );
        const toPostgres = egress.find((r) => r.name === "canary-sg-pgbouncer-to-postgres");
        expect(toPostgres).toMatchObject({ fromPort: 5432, toPort: 5432, referencedSecurityGroupId: "sg-0c0ffee0c0ffee031" });
        expect(egress.every((r) => [5432, 443, 80].includes(r.fromPort) && r.fromPort === r.toPort)).toBe(true);
        expect(inputs("canary-sg-postgres-from-pgbouncer")).toMatchObject({ securityGroupId: "sg-0c0ffee0c0ffee031", fromPort: 5432 });
    });
});

describe("canary: receivers", () => {
    it("renders gunicorn.conf.py and receiver.env into the launch template, as `render` writes them", () => {
        const template = inputs("canary-receivers-lt");
        expect(template.metadataOptions.httpTokens).toBe("required");
        expect(template.blockDeviceMappings[0].ebs.encrypted).toBe("true");
        const userData = Buffer.from(template.userData as string, "base64").toString("utf8");
        const written = cloudInitFiles(userData);
        expect(written.get("/etc/webhook-receiver/gunicorn.conf.py")).toBe(files["gunicorn.conf.py"]);
        expect(written.get("/etc/webhook-receiver/receiver.env")).toBe(files["receiver.env"]);
        expect(written.get("/opt/webhook-receiver/app/webhook_receiver.py")).toContain("def application");
        for (const password of Object.values(TEST_SECRETS)) expect(userData).not.toContain(password);
    });

    it("runs receiver.instances in an ASG that refreshes without dropping below capacity", () => {
        const asg = inputs("canary-receivers-asg");
        expect(asg).toMatchObject({ desiredCapacity: 2, minSize: 2, healthCheckType: "EC2" });
        expect(asg.instanceRefresh).toMatchObject({ strategy: "Rolling", preferences: { minHealthyPercentage: 100 } });
    });

    it("health-checks receiver.healthPath behind an HTTPS listener with the configured certificate", () => {
        expect(inputs("canary-receivers-tg").healthCheck).toMatchObject({ path: "/webhooks/health", matcher: "200" });
        expect(inputs("canary-receivers-https")).toMatchObject({
            protocol: "HTTPS",
            port: 443,
            certificateArn: expect.stringContaining(":acm:"),
        });
        expect(inputs("canary-receivers-dns")).toMatchObject({ name: "api.deltacrown.gg", zoneId: "Z0C0FFEE0C0FFEE" });
    });

    it("keeps the receiver passwords in a SecureString only", () => {
        const secrets = byName(run, "canary-receivers-secrets");
        expect(isSecretValue(secrets.inputs.value)).toBe(true);
        expect(plain(secrets.inputs.value)).toContain(`DB_PASSWORD=${TEST_SECRETS.receiverPassword}`);
        expect(plain(secrets.inputs.value)).toContain(`WEBHOOK_SIGNING_SECRET=${TEST_SECRETS.webhookSigningSecret}`);
    });
});

describe("canary: sender limits and outputs", () => {
    it("publishes the runbook's sender limits under one SSM path", () => {
        const params = byType(run, "aws:ssm/parameter:Parameter")
            .map((p) => p.inputs as { name: string; insecureValue: string })
            .filter((p) => p.name.startsWith("/receiver-tier/canary/sender/"));
        expect(Object.fromEntries(params.map((p) => [p.name.split("/").pop(), p.insecureValue]))).toEqual({
            WEBHOOK_MAX_QPS: "10",
            WEBHOOK_MAX_INFLIGHT: "100",
            WEBHOOK_BURST_LIMIT: "20",
            WEBHOOK_CB_FAILURE_THRESHOLD: "5",
            WEBHOOK_CB_TIMEOUT_SECONDS: "30",
            WEBHOOK_CB_HALF_OPEN_PROBES: "1",
        });
    });

    it("exports the operator's endpoints and commands", () => {
        expect(run.outputs).toMatchObject({
            healthUrl: "https://api.deltacrown.gg/webhooks/health",
            pgbouncerEndpoint: "pgbouncer.internal:6432",
            showPoolsCommand: 'psql -h pgbouncer.internal -p 6432 -U pgbouncer_stats -d pgbouncer -c "SHOW POOLS;"',
            statementTimeout: "5s",
            senderLimits: { WEBHOOK_MAX_QPS: "10", WEBHOOK_MAX_INFLIGHT: "100" },
        });
        expect(run.outputs.poolEndpoints).toHaveLength(2);
        for (const endpoint of run.outputs.poolEndpoints as string[])
            expect(endpoint).toMatch(/^<private ip of canary-pgbouncer-host-\d>:6432$/);
    });
});
