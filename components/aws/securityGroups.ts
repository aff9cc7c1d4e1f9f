import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AwsSettings, TierConfig } from "../config/schema";
import { PGBOUNCER_HEALTH_PORT } from "../render/pgbouncerHealth";

export interface SecurityGroupsArgs {
    /** Validated stack config (ports). */
    readonly config: TierConfig;
    /** The stack's AWS network settings. */
    readonly network: AwsSettings;
}

const HTTPS = 443;
const HTTP = 80;
const ANYWHERE = "0.0.0.0/0";

/**
 * Every security group of the tier and the rules between them, in one place so the paths are
 * reviewable together: internet -> ALB -> receivers -> PgBouncer (NLB) -> PostgreSQL, nothing else inbound.
 */
export class SecurityGroups extends pulumi.ComponentResource {
    public readonly alb: aws.ec2.SecurityGroup;
    public readonly receivers: aws.ec2.SecurityGroup;
    public readonly pgbouncerNlb: aws.ec2.SecurityGroup;
    public readonly pgbouncer: aws.ec2.SecurityGroup;

    constructor(name: string, args: SecurityGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("receiver-tier:aws:SecurityGroups", name, {}, opts);
        const cfg = args.config;
        const network = args.network;
        const group = (suffix: string, description: string) =>
            new aws.ec2.SecurityGroup(
                `${name}-${suffix}`,
                { vpcId: network.vpcId, description, tags: { Name: `${name}-${suffix}` } },
                { parent: this },
            );
        this.alb = group("alb", "receiver-tier public ALB");
        this.receivers = group("receivers", "receiver-tier Gunicorn receivers");
        this.pgbouncerNlb = group("pgbouncer-nlb", "receiver-tier internal PgBouncer NLB");
        this.pgbouncer = group("pgbouncer", "receiver-tier PgBouncer hosts");

        const rule = (
            direction: "in" | "out",
            suffix: string,
            group: aws.ec2.SecurityGroup | string,
            port: number,
            peer: aws.ec2.SecurityGroup | string,
            description: string,
        ) => {
            const Rule = direction === "in" ? aws.vpc.SecurityGroupIngressRule : aws.vpc.SecurityGroupEgressRule;
            return new Rule(
                `${name}-${suffix}`,
                {
                    securityGroupId: typeof group === "string" ? group : group.id,
                    ipProtocol: "tcp",
                    fromPort: port,
                    toPort: port,
                    description,
                    ...(typeof peer === "string" && peer.includes("/")
                        ? { cidrIpv4: peer }
                        : { referencedSecurityGroupId: typeof peer === "string" ? peer : peer.id }),
                },
                { parent: this },
            );
        };
        const ingress = (
            suffix: string,
            group: aws.ec2.SecurityGroup | string,
            port: number,
            from: aws.ec2.SecurityGroup | string,
            description: string,
        ) => rule("in", suffix, group, port, from, description);
        const egress = (
            suffix: string,
            group: aws.ec2.SecurityGroup | string,
            port: number,
            to: aws.ec2.SecurityGroup | string,
            description: string,
        ) => rule("out", suffix, group, port, to, description);
        const pgbouncerPort = cfg.pgbouncer.port;
        const receiverPort = cfg.receiver.port;
        const postgresPort = cfg.postgres.port;

        ingress("alb-https-in", this.alb, HTTPS, ANYWHERE, "webhooks over HTTPS");
        ingress("alb-http-in", this.alb, HTTP, ANYWHERE, "redirected to HTTPS");
        egress("alb-to-receivers", this.alb, receiverPort, this.receivers, "Gunicorn");

        ingress("receivers-from-alb", this.receivers, receiverPort, this.alb, "Gunicorn from the ALB only");
        egress("receivers-to-nlb", this.receivers, pgbouncerPort, this.pgbouncerNlb, "PgBouncer through the NLB");
        egress(
            "receivers-to-pgbouncer",
            this.receivers,
            pgbouncerPort,
            this.pgbouncer,
            "PgBouncer hosts directly (per-host pool endpoints)",
        );

        ingress("nlb-from-receivers", this.pgbouncerNlb, pgbouncerPort, this.receivers, "PgBouncer from receivers only");
        egress("nlb-to-pgbouncer", this.pgbouncerNlb, pgbouncerPort, this.pgbouncer, "PgBouncer hosts");
        egress("nlb-to-pgbouncer-health", this.pgbouncerNlb, PGBOUNCER_HEALTH_PORT, this.pgbouncer, "PgBouncer hosts' health check");

        ingress("pgbouncer-from-receivers", this.pgbouncer, pgbouncerPort, this.receivers, "PgBouncer from receivers");
        ingress("pgbouncer-from-nlb", this.pgbouncer, pgbouncerPort, this.pgbouncerNlb, "PgBouncer from the NLB");
        ingress(
            "pgbouncer-health-from-nlb",
            this.pgbouncer,
            PGBOUNCER_HEALTH_PORT,
            this.pgbouncerNlb,
            "health check (a login through PgBouncer) from the NLB only",
        );
        // Operators (showPoolsCommand, npm run verify) reach PgBouncer through the NLB, which keeps
        // their source address: both the NLB and the hosts admit exactly the configured operators.
        const operators = [...cfg.monitoring.operatorCidrs, ...cfg.monitoring.operatorSecurityGroupIds];
        operators.forEach((operator, index) => {
            ingress(`nlb-from-operator-${index + 1}`, this.pgbouncerNlb, pgbouncerPort, operator, `PgBouncer for operator ${operator}`);
            ingress(`pgbouncer-from-operator-${index + 1}`, this.pgbouncer, pgbouncerPort, operator, `PgBouncer for operator ${operator}`);
        });
        egress("pgbouncer-to-postgres", this.pgbouncer, postgresPort, network.postgresSecurityGroupId, "PostgreSQL, its port only");
        ingress(
            "postgres-from-pgbouncer",
            network.postgresSecurityGroupId,
            postgresPort,
            this.pgbouncer,
            "receiver-tier PgBouncer hosts and monitor",
        );
        // Boot-time package installs and the AWS APIs (SSM Parameter Store, State Manager): HTTPS/HTTP out only.
        for (const [suffix, sg] of [
            ["receivers", this.receivers],
            ["pgbouncer", this.pgbouncer],
        ] as const) {
            egress(`${suffix}-https-out`, sg, HTTPS, ANYWHERE, "AWS APIs and package mirror");
            egress(`${suffix}-http-out`, sg, HTTP, ANYWHERE, "package mirror");
        }
        this.registerOutputs({
            alb: this.alb.id,
            receivers: this.receivers.id,
            pgbouncerNlb: this.pgbouncerNlb.id,
            pgbouncer: this.pgbouncer.id,
        });
    }
}
