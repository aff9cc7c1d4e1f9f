import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AwsSettings, TierConfig } from "../config/schema";
import { renderMonitorEnv, renderPgbouncerUserData } from "../render/cloudInit";
import { renderMonitorSql, renderMonitorTimer } from "../render/monitor";
import { hostPort } from "../render/endpoints";
import { ParameterNames } from "../render/parameterNames";
import { IMDS_V2_ONLY } from "./ec2";
import { InstanceRole } from "./instanceRole";

export interface PgbouncerFleetArgs {
    /** Validated stack config. */
    readonly config: TierConfig;
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
    /** The monitor role's password (secret), read by the long-running-query check. */
    readonly monitorPassword: pulumi.Output<string>;
    /** Security group of the hosts. */
    readonly hostSecurityGroup: aws.ec2.SecurityGroup;
    /** Security group of the internal NLB. */
    readonly nlbSecurityGroup: aws.ec2.SecurityGroup;
}

/**
 * PgBouncer hosts behind an internal NLB with a private DNS name. Config lives in SSM Parameter
 * Store; each host applies changes within a minute by reload, so setting changes never replace a host.
 */
export class PgbouncerFleet extends pulumi.ComponentResource {
    public readonly poolEndpoints: pulumi.Output<string[]>;

    constructor(name: string, args: PgbouncerFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("receiver-tier:aws:PgbouncerFleet", name, {}, opts);
        const cfg = args.config;
        const pb = cfg.pgbouncer;
        const child = { parent: this };
        const plainParameter = (suffix: string, parameterName: string, value: string) =>
            new aws.ssm.Parameter(`${name}-${suffix}`, { name: parameterName, type: "String", insecureValue: value }, child);
        const secretParameter = (suffix: string, parameterName: string, value: pulumi.Output<string>) =>
            new aws.ssm.Parameter(`${name}-${suffix}`, { name: parameterName, type: "SecureString", value: pulumi.secret(value) }, child);
        // Everything that follows from config lives here; each host polls it (receiver-tier-config.timer).
        // insecureValue keeps the non-secret files readable in preview diffs.
        const parameters = [
            plainParameter("ini", args.parameters.pgbouncerIni, args.pgbouncerIni),
            secretParameter("userlist", args.parameters.userlist, args.userlist),
            secretParameter("monitor-password", args.parameters.monitorPassword, args.monitorPassword),
            plainParameter("monitor-env", args.parameters.monitorEnv, renderMonitorEnv(cfg, args.region, args.parameters)),
            plainParameter("monitor-sql", args.parameters.monitorSql, renderMonitorSql(cfg)),
            plainParameter("monitor-timer", args.parameters.monitorTimer, renderMonitorTimer(cfg)),
        ];
        const role = new InstanceRole(`${name}-instance`, { parameterArns: parameters.map((p) => p.arn) }, child);

        const ami = aws.ssm.getParameterOutput({ name: args.network.amiSsmParameter }, child).value;
        const subnets = args.network.privateSubnetIds;
        const hosts = Array.from(
            { length: pb.hosts },
            (_, index) =>
                new aws.ec2.Instance(
                    `${name}-host-${index + 1}`,
                    {
                        ami,
                        instanceType: pb.instanceType,
                        subnetId: subnets[index % subnets.length] as string,
                        vpcSecurityGroupIds: [args.hostSecurityGroup.id],
                        iamInstanceProfile: role.profile.name,
                        metadataOptions: IMDS_V2_ONLY,
                        rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: 16 },
                        userData: renderPgbouncerUserData(args.region, args.parameters),
                        // cloud-init runs once per instance: new host code needs a new host, not a stop/start.
                        userDataReplaceOnChange: true,
                        tags: { Name: `${name}-host-${index + 1}` },
                    },
                    // A newer AMI in the SSM parameter must not replace a running pool host.
                    { ...child, ignoreChanges: ["ami"], dependsOn: [...parameters, role.readPolicy] },
                ),
        );

        const nlb = new aws.lb.LoadBalancer(
            `${name}-nlb`,
            {
                internal: true,
                loadBalancerType: "network",
                subnets,
                securityGroups: [args.nlbSecurityGroup.id],
                enableCrossZoneLoadBalancing: true,
            },
            child,
        );
        const targetGroup = new aws.lb.TargetGroup(
            `${name}-tg`,
            {
                vpcId: args.network.vpcId,
                port: pb.port,
                protocol: "TCP",
                targetType: "instance",
                // Let connected clients finish their transactions when a host is taken out.
                deregistrationDelay: 60,
                healthCheck: { protocol: "TCP", port: String(pb.port), interval: 10, healthyThreshold: 2, unhealthyThreshold: 2 },
            },
            child,
        );
        hosts.forEach(
            (host, index) =>
                new aws.lb.TargetGroupAttachment(
                    `${name}-tg-${index + 1}`,
                    { targetGroupArn: targetGroup.arn, targetId: host.id, port: pb.port },
                    child,
                ),
        );
        new aws.lb.Listener(
            `${name}-listener`,
            {
                loadBalancerArn: nlb.arn,
                port: pb.port,
                protocol: "TCP",
                defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
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
            },
            child,
        );

        this.poolEndpoints = pulumi.all(hosts.map((host) => host.privateIp)).apply((ips) => ips.map((ip) => hostPort(ip, pb.port)));
        this.registerOutputs({ poolEndpoints: this.poolEndpoints });
    }
}
