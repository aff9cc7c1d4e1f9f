import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PGBOUNCER_HEALTH_PORT } from "../model/rollout";
import { COMPONENT_TYPES } from "../model/resources";

export interface SecurityGroupsArgs {
    /** The VPC the groups belong to (aws.vpcId). */
    readonly vpcId: string;
    /** PostgreSQL's own security group (aws.postgresSecurityGroupId): it admits the PgBouncer hosts. */
    readonly postgresSecurityGroupId: string;
    /** nginx's port on the receivers (receiver.nginx.port): the only one the ALB reaches; Gunicorn listens on loopback. */
    readonly proxyPort: number;
    /** PgBouncer's port on the NLB and the hosts (pgbouncer.port). */
    readonly pgbouncerPort: number;
    /** PostgreSQL's port (postgres.port). */
    readonly postgresPort: number;
    /** CIDRs and security group ids of the operators admitted to PgBouncer (monitoring.operatorCidrs, operatorSecurityGroupIds). */
    readonly operators: readonly string[];
    /** CIDRs and security group ids of the hand-made receivers while the cutover runs (cutover.legacyClient*); else none. */
    readonly legacyClients: readonly string[];
}

const HTTPS = 443;
const HTTP = 80;
const ANYWHERE = "0.0.0.0/0";

/** A security group, or the id of one the stack does not own (PostgreSQL's), or a CIDR. */
type Peer = aws.ec2.SecurityGroup | string;

/**
 * Every security group of the tier and the rules between them, in one place so the paths are
 * reviewable together: internet -> ALB -> receivers -> PgBouncer (NLB) -> PostgreSQL, nothing else inbound.
 */
export class SecurityGroups extends pulumi.ComponentResource {
    public readonly alb: aws.ec2.SecurityGroup;
    public readonly receivers: aws.ec2.SecurityGroup;
    public readonly pgbouncerNlb: aws.ec2.SecurityGroup;
    public readonly pgbouncer: aws.ec2.SecurityGroup;

    constructor(
        private readonly name: string,
        args: SecurityGroupsArgs,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super(COMPONENT_TYPES.securityGroups, name, {}, opts);
        const group = (suffix: string, description: string) =>
            new aws.ec2.SecurityGroup(
                `${name}-${suffix}`,
                { vpcId: args.vpcId, description, tags: { Name: `${name}-${suffix}` } },
                { parent: this },
            );
        this.alb = group("alb", "receiver-tier public ALB");
        this.receivers = group("receivers", "receiver-tier Gunicorn receivers");
        this.pgbouncerNlb = group("pgbouncer-nlb", "receiver-tier internal PgBouncer NLB");
        this.pgbouncer = group("pgbouncer", "receiver-tier PgBouncer hosts");

        this.receiverPaths(args);
        this.pgbouncerPaths(args);
        this.operatorPaths(args);
        this.legacyClientPaths(args);
        this.postgresPaths(args);
        this.outboundToAws();
        this.registerOutputs({
            alb: this.alb.id,
            receivers: this.receivers.id,
            pgbouncerNlb: this.pgbouncerNlb.id,
            pgbouncer: this.pgbouncer.id,
        });
    }

    /** One TCP port from a peer into a group, or out of a group to a peer. */
    private rule(direction: "in" | "out", suffix: string, group: Peer, port: number, peer: Peer, description: string) {
        const Rule = direction === "in" ? aws.vpc.SecurityGroupIngressRule : aws.vpc.SecurityGroupEgressRule;
        return new Rule(
            `${this.name}-${suffix}`,
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
    }

    private ingress(suffix: string, group: Peer, port: number, from: Peer, description: string) {
        return this.rule("in", suffix, group, port, from, description);
    }

    private egress(suffix: string, group: Peer, port: number, to: Peer, description: string) {
        return this.rule("out", suffix, group, port, to, description);
    }

    /** Internet -> ALB -> receivers -> PgBouncer (through the NLB or a host directly). */
    private receiverPaths(args: SecurityGroupsArgs): void {
        this.ingress("alb-https-in", this.alb, HTTPS, ANYWHERE, "webhooks over HTTPS");
        this.ingress("alb-http-in", this.alb, HTTP, ANYWHERE, "redirected to HTTPS");
        this.egress("alb-to-receivers", this.alb, args.proxyPort, this.receivers, "nginx in front of Gunicorn");

        this.ingress("receivers-from-alb", this.receivers, args.proxyPort, this.alb, "nginx from the ALB only");
        this.egress("receivers-to-nlb", this.receivers, args.pgbouncerPort, this.pgbouncerNlb, "PgBouncer through the NLB");
        this.egress(
            "receivers-to-pgbouncer",
            this.receivers,
            args.pgbouncerPort,
            this.pgbouncer,
            "PgBouncer hosts directly (per-host pool endpoints)",
        );
    }

    /** NLB -> PgBouncer hosts: the pool and the hosts' health check. */
    private pgbouncerPaths(args: SecurityGroupsArgs): void {
        const port = args.pgbouncerPort;
        this.ingress("nlb-from-receivers", this.pgbouncerNlb, port, this.receivers, "PgBouncer from receivers only");
        this.egress("nlb-to-pgbouncer", this.pgbouncerNlb, port, this.pgbouncer, "PgBouncer hosts");
        this.egress("nlb-to-pgbouncer-health", this.pgbouncerNlb, PGBOUNCER_HEALTH_PORT, this.pgbouncer, "PgBouncer hosts' health check");

        this.ingress("pgbouncer-from-receivers", this.pgbouncer, port, this.receivers, "PgBouncer from receivers");
        this.ingress("pgbouncer-from-nlb", this.pgbouncer, port, this.pgbouncerNlb, "PgBouncer from the NLB");
        this.ingress(
            "pgbouncer-health-from-nlb",
            this.pgbouncer,
            PGBOUNCER_HEALTH_PORT,
            this.pgbouncerNlb,
            "health check (a login through PgBouncer) from the NLB only",
        );
    }

    /**
     * Operators (showPoolsCommand, npm run verify) reach PgBouncer through the NLB, which keeps
     * their source address: both the NLB and the hosts admit exactly the configured operators.
     */
    private operatorPaths(args: SecurityGroupsArgs): void {
        args.operators.forEach((operator, index) => {
            const description = `PgBouncer for operator ${operator}`;
            this.ingress(`nlb-from-operator-${index + 1}`, this.pgbouncerNlb, args.pgbouncerPort, operator, description);
            this.ingress(`pgbouncer-from-operator-${index + 1}`, this.pgbouncer, args.pgbouncerPort, operator, description);
        });
    }

    /**
     * The hand-made receivers during the cutover: pgbouncer.dnsName moves to the NLB under them, so their new
     * connections arrive there (and, like the operators', keep their source address up to the hosts).
     */
    private legacyClientPaths(args: SecurityGroupsArgs): void {
        args.legacyClients.forEach((client, index) => {
            const description = `PgBouncer for the hand-made receivers ${client} (cutover)`;
            this.ingress(`nlb-from-legacy-${index + 1}`, this.pgbouncerNlb, args.pgbouncerPort, client, description);
            this.ingress(`pgbouncer-from-legacy-${index + 1}`, this.pgbouncer, args.pgbouncerPort, client, description);
        });
    }

    /** PgBouncer hosts -> PostgreSQL, on PostgreSQL's port only, on both sides. */
    private postgresPaths(args: SecurityGroupsArgs): void {
        const postgres = args.postgresSecurityGroupId;
        this.egress("pgbouncer-to-postgres", this.pgbouncer, args.postgresPort, postgres, "PostgreSQL, its port only");
        this.ingress("postgres-from-pgbouncer", postgres, args.postgresPort, this.pgbouncer, "receiver-tier PgBouncer hosts and monitor");
    }

    /** Boot-time package installs and the AWS APIs (SSM Parameter Store, State Manager): HTTPS/HTTP out only. */
    private outboundToAws(): void {
        for (const [suffix, sg] of [
            ["receivers", this.receivers],
            ["pgbouncer", this.pgbouncer],
        ] as const) {
            this.egress(`${suffix}-https-out`, sg, HTTPS, ANYWHERE, "AWS APIs and package mirror");
            this.egress(`${suffix}-http-out`, sg, HTTP, ANYWHERE, "package mirror");
        }
    }
}
