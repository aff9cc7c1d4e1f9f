import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AwsSettings, TierConfig } from "../config/schema";
import { renderMonitorEnv, renderPgbouncerUserData } from "../render/cloudInit";
import { renderMonitorSql, renderMonitorTimer } from "../render/monitor";
import { hostPort } from "../render/endpoints";
import { ParameterNames } from "../render/parameterNames";
import { PGBOUNCER_HEALTH_PORT } from "../render/pgbouncerHealth";
import { metricsNamespace, PGBOUNCER_LOGS, renderLogrotate, renderMetricsEnv } from "../render/monitoring";
import { oneExtraInstancePercentage } from "../render/rollout";
import { InstanceRole } from "./instanceRole";
import { PgbouncerTls } from "./pgbouncerTls";
import { RollingGroup } from "./rollingGroup";

export interface PgbouncerFleetArgs {
    /** Validated stack config. */
    readonly config: TierConfig;
    /** Stack name (the metrics namespace defaults to it). */
    readonly stack: string;
    /** The stack's AWS network settings. */
    readonly network: AwsSettings;
    /** AWS region of the stack (for the hosts' AWS CLI). */
    readonly region: string;
    /** SSM parameter names of this stack. */
    readonly parameters: ParameterNames;
    /** Rendered pgbouncer.ini (not secret). */
    readonly pgbouncerIni: string;
    /** Rendered userlist.txt (secret). */
    readonly userlist: pulumi.Output<string>;
    /** Rendered pgbouncer-health.env (secret): the health check's login through the host's PgBouncer. */
    readonly healthEnv: pulumi.Output<string>;
    /** The monitor role's password (secret), read by the long-running-query check. */
    readonly monitorPassword: pulumi.Output<string>;
    /** PgBouncer's certificate, key and CA, when it serves TLS to receivers. */
    readonly tls?: PgbouncerTls;
    /** Security group of the hosts. */
    readonly hostSecurityGroup: aws.ec2.SecurityGroup;
    /** Security group of the internal NLB. */
    readonly nlbSecurityGroup: aws.ec2.SecurityGroup;
}

/** Bytes a standard-tier SSM parameter holds. */
const STANDARD_PARAMETER_BYTES = 4096;

/** Seconds a PgBouncer host takes from launch to serving: packages, the first config apply, the readiness check. */
const HOST_WARMUP_SECONDS = 300;

/**
 * PgBouncer hosts in an auto scaling group behind an internal NLB with a private DNS name. Config
 * lives in SSM Parameter Store; each host applies changes by reload on its own staggered poll, so
 * setting changes never replace a host. Host code changes roll the group one host at a time, each
 * replacement in service only after a login through its PgBouncer reached PostgreSQL.
 */
export class PgbouncerFleet extends pulumi.ComponentResource {
    /** The PgBouncer endpoint receivers use (the NLB's private DNS name); hosts come and go behind it. */
    public readonly poolEndpoints: pulumi.Output<string[]>;
    /** The auto scaling group of the hosts. */
    public readonly groupName: pulumi.Output<string>;
    /** The NLB and its target group as CloudWatch names them (ARN suffixes). */
    public readonly metricTargets: { readonly loadBalancer: pulumi.Output<string>; readonly targetGroup: pulumi.Output<string> };

    constructor(name: string, args: PgbouncerFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("receiver-tier:aws:PgbouncerFleet", name, {}, opts);
        const cfg = args.config;
        const pb = cfg.pgbouncer;
        const child = { parent: this };

        const parameters = this.configParameters(name, args);
        const role = new InstanceRole(
            `${name}-instance`,
            { parameterArns: parameters.map((p) => p.arn), fleet: name, metricsNamespace: metricsNamespace(cfg, args.stack) },
            child,
        );
        const { nlb, targetGroup } = this.loadBalancer(name, args);

        const hosts = new RollingGroup(
            `${name}-hosts`,
            {
                subnetIds: args.network.privateSubnetIds,
                desired: pb.hosts,
                maxHealthyPercentage: oneExtraInstancePercentage(pb.hosts),
                imageId: aws.ssm.getParameterOutput({ name: args.network.amiSsmParameter }, child).value,
                instanceType: pb.instanceType,
                instanceProfileArn: role.profile.arn,
                securityGroupId: args.hostSecurityGroup.id,
                userData: renderPgbouncerUserData(cfg, args.region, args.parameters),
                targetGroupArns: [targetGroup.arn],
                warmupSeconds: HOST_WARMUP_SECONDS,
                fleet: name,
                bootDependsOn: [...parameters, role.readPolicy],
            },
            child,
        );

        new aws.route53.Record(
            `${name}-dns`,
            {
                zoneId: args.network.privateZoneId,
                name: pb.dnsName,
                type: "A",
                aliases: [{ name: nlb.dnsName, zoneId: nlb.zoneId, evaluateTargetHealth: true }],
                // Taking over a record made by hand: an explicit choice per record (adopt.overwriteRecords).
                allowOverwrite: cfg.adopt.overwriteRecords.private,
            },
            { ...child, import: cfg.adopt.privateRecord },
        );

        this.poolEndpoints = pulumi.output([hostPort(pb.dnsName, pb.port)]);
        this.groupName = hosts.group.name;
        this.metricTargets = { loadBalancer: nlb.arnSuffix, targetGroup: targetGroup.arnSuffix };
        this.registerOutputs({ poolEndpoints: this.poolEndpoints, groupName: this.groupName });
    }

    /** Everything that follows from config; each host polls it (receiver-tier-config.timer). */
    private configParameters(name: string, args: PgbouncerFleetArgs): aws.ssm.Parameter[] {
        const child = { parent: this };
        // insecureValue keeps the non-secret files readable in preview diffs.
        const plain = (suffix: string, parameterName: string, value: pulumi.Input<string>) =>
            new aws.ssm.Parameter(`${name}-${suffix}`, { name: parameterName, type: "String", insecureValue: value }, child);
        const secret = (suffix: string, parameterName: string, value: pulumi.Output<string>) =>
            new aws.ssm.Parameter(`${name}-${suffix}`, { name: parameterName, type: "SecureString", value: pulumi.secret(value) }, child);
        const names = args.parameters;
        const caBundle = args.config.postgres.caBundle;
        // A regional CA bundle can exceed the 4 KiB of a standard parameter (the caBundle rule caps it at 8 KiB).
        const postgresCa =
            caBundle === undefined
                ? []
                : [
                      new aws.ssm.Parameter(
                          `${name}-postgres-ca`,
                          {
                              name: names.postgresCa,
                              type: "String",
                              tier: Buffer.byteLength(caBundle) > STANDARD_PARAMETER_BYTES ? "Advanced" : "Standard",
                              insecureValue: caBundle,
                          },
                          child,
                      ),
                  ];
        const tls = args.tls
            ? [
                  plain("tls-cert", names.pgbouncerTlsCert, args.tls.certPem),
                  secret("tls-key", names.pgbouncerTlsKey, args.tls.privateKeyPem),
                  plain("tls-ca", names.pgbouncerTlsCa, args.tls.caCertPem),
              ]
            : [];
        return [
            ...postgresCa,
            ...tls,
            plain("ini", names.pgbouncerIni, args.pgbouncerIni),
            secret("userlist", names.userlist, args.userlist),
            secret("health-env", names.pgbouncerHealthEnv, args.healthEnv),
            secret("monitor-password", names.monitorPassword, args.monitorPassword),
            plain("monitor-env", names.monitorEnv, renderMonitorEnv(args.config, args.region, names)),
            plain("monitor-sql", names.monitorSql, renderMonitorSql(args.config)),
            plain("monitor-timer", names.monitorTimer, renderMonitorTimer(args.config)),
            plain("metrics-env", names.metricsEnv, renderMetricsEnv(args.config, args.stack, args.region)),
            plain("logrotate", names.pgbouncerLogrotate, renderLogrotate(args.config, PGBOUNCER_LOGS)),
        ];
    }

    /** The internal NLB: it sends clients only to hosts whose PgBouncer can log in to PostgreSQL. */
    private loadBalancer(name: string, args: PgbouncerFleetArgs) {
        const child = { parent: this };
        const port = args.config.pgbouncer.port;
        const nlb = new aws.lb.LoadBalancer(
            `${name}-nlb`,
            {
                internal: true,
                loadBalancerType: "network",
                subnets: args.network.privateSubnetIds,
                securityGroups: [args.nlbSecurityGroup.id],
                enableCrossZoneLoadBalancing: true,
            },
            child,
        );
        const targetGroup = new aws.lb.TargetGroup(
            `${name}-tg`,
            {
                vpcId: args.network.vpcId,
                port,
                protocol: "TCP",
                targetType: "instance",
                // Let connected clients finish their transactions when a host is taken out.
                deregistrationDelay: 60,
                // More than the open port: the host's own check logs in through its PgBouncer. When
                // every host fails (a PostgreSQL outage) the NLB fails open; the group replaces nothing.
                healthCheck: {
                    protocol: "HTTP",
                    port: String(PGBOUNCER_HEALTH_PORT),
                    path: "/",
                    matcher: "200",
                    interval: 10,
                    timeout: 6,
                    healthyThreshold: 2,
                    unhealthyThreshold: 2,
                },
            },
            child,
        );
        new aws.lb.Listener(
            `${name}-listener`,
            { loadBalancerArn: nlb.arn, port, protocol: "TCP", defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }] },
            child,
        );
        return { nlb, targetGroup };
    }
}
