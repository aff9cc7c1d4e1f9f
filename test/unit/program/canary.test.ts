import { ALB_IDLE_TIMEOUT_SECONDS } from "../../../components/model/rollout";
import * as fs from "fs";
import { beforeAll, describe, expect, it } from "vitest";
import { roleSecret } from "../../../components/model/authSecrets";
import { parseTierConfig } from "../../../components/config/load";
import { readStackFile } from "../../../components/config/stackFile";
import { renderEventsTableSql } from "../../../components/render/eventsTableSql";
import {
    byName,
    byType,
    cloudInitFiles,
    launchTemplateText,
    isSecretValue,
    plain,
    PROJECT_DIR,
    ProgramRun,
    renderedFiles,
    stackRun,
    PROGRAM_SECRETS,
} from "./mockTier";

let run: ProgramRun;
const files = renderedFiles("canary");
const inputs = (name: string) => plain(byName(run, name).inputs) as Record<string, any>;

beforeAll(async () => {
    run = stackRun("canary");
});

describe("canary: PostgreSQL settings", () => {
    const { config } = parseTierConfig(readStackFile(PROJECT_DIR, "canary").raw);

    it("gives both receiver logins the runbook's 5 s statement timeout, the group role and the userlist secret as password", () => {
        for (const [login, password, canLogIn] of [
            ["webhook_receiver_a", PROGRAM_SECRETS.receiverPasswordA, true],
            ["webhook_receiver_b", PROGRAM_SECRETS.receiverPasswordB, false],
        ] as const) {
            const role = byName(run, `canary-postgres-role-${login}`);
            const values = plain(role.inputs) as Record<string, unknown>;
            expect(values).toMatchObject({
                name: login,
                login: canLogIn,
                statementTimeout: 5000,
                idleInTransactionSessionTimeout: 10_000,
                roles: ["webhook_receiver"],
                assumeRole: "webhook_receiver",
            });
            // Room for one extra PgBouncer host while a roll overlaps old and new hosts (cutover step 1's pools).
            expect(values.connectionLimit).toBe((2 + 1) * (10 + 4));
            expect(isSecretValue(role.inputs.password)).toBe(true);
            const secret = roleSecret(config, login, password);
            expect(secret).toMatch(/^SCRAM-SHA-256\$4096:/);
            expect(values.password).toBe(secret);
        }
        expect(files["userlist.txt"]).toContain(
            `"webhook_receiver_a" "${roleSecret(config, "webhook_receiver_a", PROGRAM_SECRETS.receiverPasswordA)}"`,
        );
        expect(files["userlist.txt"]).not.toContain("webhook_receiver_b");
        // Cutover step 1: the group role is still the hand-made login (test/unit/program/cutover.test.ts).
        expect(inputs("canary-postgres-role-webhook_receiver")).toMatchObject({ name: "webhook_receiver", login: true });
        expect(inputs("canary-postgres-role-webhook_receiver_owner")).toMatchObject({
            name: "webhook_receiver_owner",
            login: false,
            roles: [],
        });
        expect(inputs("canary-postgres-receiver-schema")).toMatchObject({ name: "webhook_receiver", owner: "webhook_receiver_owner" });
        // The same statements database.sql runs: the events table, its owner and the group role's INSERT and SELECT.
        expect(inputs("canary-postgres-events-table").statements).toEqual(renderEventsTableSql(config));
        expect(inputs("canary-postgres-public-database")).toMatchObject({ database: "deltacrown", role: "public", privileges: [] });
    });

    it("sets the database statement_timeout through the dynamic provider", () => {
        const setting = inputs("canary-postgres-database-statement-timeout");
        expect(setting).toMatchObject({ database: "deltacrown", name: "statement_timeout", value: "5s" });
        expect(setting.connection).toMatchObject({
            host: "postgres-primary.internal",
            port: 5432,
            user: "postgres",
            sslmode: "verify-full",
            sslrootcert: config.postgres.caBundle,
        });
    });

    it("gives the monitoring role pg_monitor and a connection limit", () => {
        expect(inputs("canary-postgres-role-receiver_monitor")).toMatchObject({
            name: "receiver_monitor",
            login: true,
            roles: ["pg_monitor"],
            statementTimeout: 30_000,
        });
        expect(inputs("canary-postgres-role-pgbouncer_stats_a")).toMatchObject({ name: "pgbouncer_stats_a", login: false });
        expect(inputs("canary-postgres-role-pgbouncer_stats_b")).toMatchObject({ name: "pgbouncer_stats_b", login: false });
    });

    it("connects the provider with the stack's admin settings", () => {
        expect(inputs("canary-postgres-provider")).toMatchObject({
            host: "postgres-primary.internal",
            port: "5432",
            username: "postgres",
            sslmode: "verify-full",
        });
        // The provider takes a path: the stack's CA bundle, written where Pulumi runs.
        const rootCert = inputs("canary-postgres-provider").sslrootcert as string;
        expect(fs.readFileSync(rootCert, "utf8")).toBe(config.postgres.caBundle);
    });
});

describe("canary: PgBouncer hosts", () => {
    const group = () => inputs("canary-pgbouncer-hosts-asg");

    it("runs pgbouncer.hosts instances in an auto scaling group with IMDSv2 and encrypted volumes", () => {
        expect(byType(run, "aws:ec2/instance:Instance")).toEqual([]);
        const template = inputs("canary-pgbouncer-hosts-lt");
        expect(template.metadataOptions.httpTokens).toBe("required");
        expect(template.blockDeviceMappings[0].ebs.encrypted).toBe("true");
        expect(template.instanceType).toBe("t3.small");
        // A concrete AMI: auto rollback cannot return to a template that names an SSM alias.
        expect(template.imageId).toBe("<value of /aws/service/debian/release/12/latest/amd64>");
        expect(group()).toMatchObject({ desiredCapacity: 2, minSize: 2, maxSize: 3, vpcZoneIdentifiers: expect.any(Array) });
        expect(group().vpcZoneIdentifiers).toHaveLength(2);
        expect(group().launchTemplate).toMatchObject({ id: "<id of canary-pgbouncer-hosts-lt>" });
    });

    it("attaches the group to the NLB target group, whose health check logs in through PgBouncer", () => {
        expect(group().targetGroupArns).toEqual(["<arn of canary-pgbouncer-tg>"]);
        expect(byType(run, "aws:lb/targetGroupAttachment:TargetGroupAttachment")).toEqual([]);
        expect(inputs("canary-pgbouncer-tg").healthCheck).toMatchObject({ protocol: "HTTP", port: "8008", matcher: "200" });
    });

    it("rolls one host at a time, launching first, gated by readiness, rolling back on failure", () => {
        expect(group().instanceRefresh).toEqual({
            strategy: "Rolling",
            preferences: {
                minHealthyPercentage: 100,
                maxHealthyPercentage: 150,
                autoRollback: true,
                instanceWarmup: "300",
                skipMatching: true,
            },
        });
        // A numbered version (never $Latest/$Default), which auto rollback needs to return to.
        expect(group().launchTemplate.version).toMatch(/^\d+$/);
        expect(group().initialLifecycleHooks).toEqual([
            {
                name: "receiver-tier-ready",
                lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
                defaultResult: "ABANDON",
                heartbeatTimeout: 900,
            },
        ]);
        // EC2 health replaces a dead host; a PostgreSQL outage (every health check failing) replaces none.
        expect(group().healthCheckType).toBe("EC2");
        expect(group().instanceMaintenancePolicy).toEqual({ minHealthyPercentage: 100, maxHealthyPercentage: 150 });
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
                Resource: [
                    "postgres-ca",
                    "tls-cert",
                    "tls-key",
                    "tls-ca",
                    "ini",
                    "userlist",
                    "health-env",
                    "monitor-password",
                    "monitor-env",
                    "monitor-sql",
                    "monitor-timer",
                    "metrics-env",
                    "logrotate",
                ].map((p) => `<arn of canary-pgbouncer-${p}>`),
            },
            { Effect: "Allow", Action: ["autoscaling:DescribeAutoScalingInstances"], Resource: "*" },
            {
                Effect: "Allow",
                Action: ["autoscaling:CompleteLifecycleAction"],
                Resource: "*",
                Condition: { StringEquals: { "autoscaling:ResourceTag/receiver-tier-fleet": "canary-pgbouncer" } },
            },
            {
                Effect: "Allow",
                Action: ["cloudwatch:PutMetricData"],
                Resource: "*",
                Condition: { StringEquals: { "cloudwatch:namespace": "ReceiverTier/canary" } },
            },
            // Session Manager (README "A shell on a host"; test/unit/program/sessionManager.test.ts).
            expect.objectContaining({ Action: expect.arrayContaining(["ssmmessages:OpenDataChannel"]), Resource: "*" }),
            {
                Effect: "Allow",
                Action: ["s3:GetObject"],
                Resource: "arn:aws:s3:::amazon-ssm-us-east-1/latest/debian_amd64/amazon-ssm-agent.deb",
            },
        ]);
        expect(group().tags).toContainEqual({ key: "receiver-tier-fleet", value: "canary-pgbouncer", propagateAtLaunch: false });
        expect(byType(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual([]);
    });

    it("ships the systemd drop-in, the staggered config poller and the health check in user data, and no secret or config", () => {
        const userData = launchTemplateText(inputs("canary-pgbouncer-hosts-lt").userData);
        const written = cloudInitFiles(userData);
        expect(written.get("/etc/systemd/system/pgbouncer.service.d/override.conf")).toMatch(/LimitNOFILE=65536[\s\S]*Restart=on-failure/);
        expect(written.get("/etc/systemd/system/receiver-tier-config.timer")).toMatch(/RandomizedDelaySec=5min\nFixedRandomDelay=true/);
        expect(written.get("/etc/systemd/system/receiver-tier-pgbouncer-health.socket")).toContain("ListenStream=8008");
        expect(written.get("/etc/receiver-tier/managed-files")).toContain(
            "/receiver-tier/canary/pgbouncer/pgbouncer.ini /etc/pgbouncer/pgbouncer.ini 0640 postgres:postgres pgbouncer",
        );
        expect(written.get("/etc/receiver-tier/managed-files")).toContain(
            "/receiver-tier/canary/pgbouncer/health.env /etc/receiver-tier/pgbouncer-health.env 0600 postgres:postgres health",
        );
        expect(userData).toMatch(/receiver-tier-complete-launch\n\s*- \/usr\/local\/sbin\/receiver-tier-pgbouncer-health\n\s*- check/);
        expect(userData).not.toContain("[pgbouncer]");
        expect(userData).not.toMatch(/SCRAM-SHA-256\$|md5[0-9a-f]{32}/);
        for (const password of Object.values(PROGRAM_SECRETS)) expect(userData).not.toContain(password);
    });

    it("keeps the health check's login (the active receiver login) in a SecureString", () => {
        const health = byName(run, "canary-pgbouncer-health-env");
        expect(isSecretValue(health.inputs.value)).toBe(true);
        expect(plain(health.inputs.value)).toContain(`PGUSER=webhook_receiver_a\nPGPASSWORD=${PROGRAM_SECRETS.receiverPasswordA}`);
    });

    it("puts the hosts behind an internal NLB named pgbouncer.internal", () => {
        expect(inputs("canary-pgbouncer-nlb")).toMatchObject({ internal: true, loadBalancerType: "network" });
        expect(inputs("canary-pgbouncer-dns")).toMatchObject({ name: "pgbouncer.internal", type: "A", zoneId: "Z0C0FFEE0C0FFE1" });
    });
});

describe("canary: the names move last", () => {
    // A record that names its load balancer before any target is in service sends traffic nowhere.
    it.each([
        ["canary-pgbouncer-dns", "canary-pgbouncer-hosts-asg"],
        ["canary-receivers-dns", "canary-receivers-hosts-asg"],
    ])("%s waits for %s, whose creation waits for its instances to be in service", (record, group) => {
        const groupUrn = (dependency: string) => dependency.endsWith(`aws:autoscaling/group:Group::${group}`);
        expect(byName(run, record).dependencies.some(groupUrn), byName(run, record).dependencies.join("\n")).toBe(true);
    });
});

describe("canary: security groups", () => {
    const rules = (type: string): Record<string, any>[] =>
        byType(run, type).map((r) => ({ name: r.name, ...(plain(r.inputs) as Record<string, any>) }));

    it("admits 6432 only from the receivers, the NLB and (cutover step 1) the hand-made receivers' group", () => {
        const pgbouncerIngress = rules("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.fromPort === 6432);
        expect(pgbouncerIngress.map((r) => r.name).sort()).toEqual([
            "canary-sg-nlb-from-legacy-1",
            "canary-sg-nlb-from-receivers",
            "canary-sg-pgbouncer-from-legacy-1",
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
        const template = inputs("canary-receivers-hosts-lt");
        expect(template.metadataOptions.httpTokens).toBe("required");
        expect(template.blockDeviceMappings[0].ebs.encrypted).toBe("true");
        const userData = launchTemplateText(template.userData);
        const written = cloudInitFiles(userData);
        expect(written.get("/etc/webhook-receiver/gunicorn.conf.py")).toBe(files["gunicorn.conf.py"]);
        expect(written.get("/etc/webhook-receiver/receiver.env")).toBe(files["receiver.env"]);
        expect(written.get("/etc/receiver-tier/nginx.conf")).toBe(files["nginx.conf"]);
        expect(written.get("/opt/webhook-receiver/app/webhook_receiver.py")).toContain("def application");
        for (const password of Object.values(PROGRAM_SECRETS)) expect(userData).not.toContain(password);
    });

    it("runs receiver.instances in an ASG whose refresh admits only ready receivers and rolls back by itself", () => {
        const asg = inputs("canary-receivers-hosts-asg");
        // EC2, not ELB: a database outage fails every health check and must not replace the fleet.
        expect(asg).toMatchObject({ desiredCapacity: 2, minSize: 2, maxSize: 4, healthCheckType: "EC2" });
        expect(asg.targetGroupArns).toEqual(["<arn of canary-receivers-tg>"]);
        expect(asg.instanceRefresh).toEqual({
            strategy: "Rolling",
            preferences: {
                minHealthyPercentage: 100,
                maxHealthyPercentage: 200,
                autoRollback: true,
                instanceWarmup: "180",
                skipMatching: true,
            },
        });
        expect(asg.initialLifecycleHooks).toEqual([
            expect.objectContaining({
                name: "receiver-tier-ready",
                lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
                defaultResult: "ABANDON",
            }),
        ]);
        expect(inputs("canary-receivers-hosts-lt").imageId).not.toMatch(/^resolve:ssm:/);
    });

    it("completes the launch only after the local health check through nginx (a login through PgBouncer) answered", () => {
        const userData = launchTemplateText(inputs("canary-receivers-hosts-lt").userData);
        expect(userData).toMatch(
            /- \/usr\/local\/sbin\/receiver-tier-complete-launch\n\s*- curl\n[\s\S]*- http:\/\/127\.0\.0\.1:8080\/webhooks\/health/,
        );
        const written = cloudInitFiles(userData);
        expect(written.get("/etc/systemd/system/webhook-receiver.service")).toMatch(
            /ExecStartPre=\+\/usr\/local\/sbin\/receiver-tier-fetch-secrets[\s\S]*Restart=always/,
        );
        expect(written.get("/etc/receiver-tier/receiver-host.env")).toContain("SECRETS_VERSION=");
    });

    it("puts nginx in front of Gunicorn: installed, checked with nginx -t before it replaces the package's config, started after the app", () => {
        const template = inputs("canary-receivers-hosts-lt");
        const userData = launchTemplateText(template.userData);
        const written = cloudInitFiles(userData);
        expect(userData).toMatch(/packages:[\s\S]*- nginx\n/);
        // The readiness check runs after the proxy is installed, and the proxy after Gunicorn.
        expect(userData).toMatch(
            /- - \/usr\/local\/sbin\/receiver-tier-install-receiver\n\s*- - \/usr\/local\/sbin\/receiver-tier-install-proxy\n\s*- - systemctl\n\s*- start\n\s*- --no-block\n\s*- receiver-tier-ssm-agent\.service\n\s*- - \/usr\/local\/sbin\/receiver-tier-complete-launch/,
        );
        const install = written.get("/usr/local/sbin/receiver-tier-install-proxy") ?? "";
        expect(install.indexOf("nginx -t")).toBeGreaterThan(-1);
        expect(install.indexOf("nginx -t")).toBeLessThan(install.indexOf("/etc/nginx/nginx.conf"));
        expect(written.get("/etc/systemd/system/nginx.service.d/receiver-tier.conf")).toMatch(/After=webhook-receiver\.service/);
        expect(written.get("/etc/receiver-tier/metrics.env")).toContain("LOCAL_HEALTH_URL=http://127.0.0.1:8080/webhooks/health");
    });

    it("sends the ALB to nginx's port only: target group, security groups; Gunicorn binds loopback", () => {
        expect(inputs("canary-receivers-tg")).toMatchObject({ port: 8080, protocol: "HTTP" });
        expect(inputs("canary-receivers-alb")).toMatchObject({ idleTimeout: ALB_IDLE_TIMEOUT_SECONDS });
        expect(inputs("canary-sg-receivers-from-alb")).toMatchObject({ fromPort: 8080, toPort: 8080 });
        expect(inputs("canary-sg-alb-to-receivers")).toMatchObject({ fromPort: 8080, toPort: 8080 });
        const ingress = byType(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
            .filter((r) => r.name.startsWith("canary-sg-receivers-"))
            .map((r) => (plain(r.inputs) as Record<string, any>).fromPort);
        expect(ingress).toEqual([8080]);
        expect(files["gunicorn.conf.py"]).toContain('bind = "127.0.0.1:8000"');
    });

    it("health-checks receiver.healthPath behind an HTTPS listener with the configured certificate", () => {
        expect(inputs("canary-receivers-tg").healthCheck).toMatchObject({ path: "/webhooks/health", matcher: "200" });
        expect(inputs("canary-receivers-https")).toMatchObject({
            protocol: "HTTPS",
            port: 443,
            certificateArn: expect.stringContaining(":acm:"),
        });
        expect(inputs("canary-receivers-dns")).toMatchObject({ name: "api-canary.deltacrown.gg", zoneId: "Z0C0FFEE0C0FFEE" });
    });

    it("keeps the receiver passwords in a SecureString only", () => {
        const secrets = byName(run, "canary-receivers-secrets");
        expect(isSecretValue(secrets.inputs.value)).toBe(true);
        expect(plain(secrets.inputs.value)).toContain(`DB_PASSWORD=${PROGRAM_SECRETS.receiverPasswordA}`);
        expect(plain(secrets.inputs.value)).not.toContain(PROGRAM_SECRETS.receiverPasswordB);
        expect(plain(secrets.inputs.value)).toContain(`WEBHOOK_SIGNING_SECRET=${PROGRAM_SECRETS.webhookSigningSecret}`);
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
            WEBHOOK_REQUEST_TIMEOUT_SECONDS: "10",
            WEBHOOK_CB_FAILURE_THRESHOLD: "5",
            WEBHOOK_CB_TIMEOUT_SECONDS: "30",
            WEBHOOK_CB_HALF_OPEN_PROBES: "1",
        });
    });

    it("exports the operator's endpoints and commands", () => {
        expect(run.outputs).toMatchObject({
            healthUrl: "https://api-canary.deltacrown.gg/webhooks/health",
            pgbouncerEndpoint: "pgbouncer.internal:6432",
            showPoolsCommand: 'psql -h pgbouncer.internal -p 6432 -U pgbouncer_stats_a -d pgbouncer -c "SHOW POOLS;"',
            statementTimeout: "5s",
            senderLimits: { WEBHOOK_MAX_QPS: "10", WEBHOOK_MAX_INFLIGHT: "100" },
        });
        // The pool hosts come and go with the group; the NLB's name reaches whichever are healthy.
        expect(run.outputs.poolEndpoints).toEqual(["pgbouncer.internal:6432"]);
    });
});
