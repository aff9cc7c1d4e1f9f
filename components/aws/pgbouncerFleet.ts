import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AwsSettings, TierConfig } from "../config/schema";
import { contentVersion, renderApplyConfigDocument, renderPgbouncerUserData } from "../render/cloudInit";
import { hostPort } from "../render/endpoints";
import { ParameterNames } from "../render/parameterNames";
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
 * PgBouncer hosts behind an internal NLB with a private DNS name. Config lives in SSM; an SSM
 * association writes it and reloads PgBouncer, so setting changes never replace a host.
 */
export class PgbouncerFleet extends pulumi.ComponentResource {
    public readonly endpoint: string;
    public readonly poolEndpoints: pulumi.Output<string[]>;
    public readonly instanceIds: pulumi.Output<string[]>;

    constructor(name: string, args: PgbouncerFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("receiver-tier:aws:PgbouncerFleet", name, {}, opts);
        const cfg = args.config;
        const pb = cfg.pgbouncer;
        const child = { parent: this };
        const tagKey = "receiver-tier:pgbouncer";
        const stackTag = pulumi.getStack();

        const ini = new aws.ssm.Parameter(`${name}-ini`, { name: args.parameters.pgbouncerIni, type: "String", insecureValue: args.pgbouncerIni }, child);
        const userlist = new aws.ssm.Parameter(
            `${name}-userlist`,
            { name: args.parameters.userlist, type: "SecureString", value: pulumi.secret(args.userlist) },
            child,
        );
        const monitorPassword = new aws.ssm.Parameter(
            `${name}-monitor-password`,
            { name: args.parameters.monitorPassword, type: "SecureString", value: pulumi.secret(args.monitorPassword) },
            child,
        );
        const role = new InstanceRole(`${name}-instance`, { parameterArns: [ini.arn, userlist.arn, monitorPassword.arn] }, child);

        const ami = aws.ssm.getParameterOutput({ name: args.network.amiSsmParameter }, child).value;
        const userData = renderPgbouncerUserData(cfg, args.region, args.parameters);
        const subnets = args.network.privateSubnetIds;
        const hosts = Array.from({ length: pb.hosts }, (_, index) =>
            new aws.ec2.Instance(
                `${name}-host-${index + 1}`,
                {
                    ami,
                    instanceType: pb.instanceType,
                    subnetId: subnets[index % subnets.length] as string,
                    vpcSecurityGroupIds: [args.hostSecurityGroup.id],
                    iamInstanceProfile: role.profile.name,
                    metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
                    rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: 16 },
                    userData,
                    tags: { Name: `${name}-host-${index + 1}`, [tagKey]: stackTag },
                },
                // A newer AMI in the SSM parameter must not replace a running pool host.
                { ...child, ignoreChanges: ["ami"], dependsOn: [ini, userlist] },
            ),
        );

        const document = new aws.ssm.Document(
            `${name}-apply-config`,
            { documentType: "Command", documentFormat: "JSON", content: renderApplyConfigDocument() },
            child,
        );
        // A new configVersion (any change to the rendered files) re-runs the document on every host.
        new aws.ssm.Association(
            `${name}-apply-config`,
            {
                name: document.name,
                targets: [{ key: `tag:${tagKey}`, values: [stackTag] }],
                parameters: { configVersion: pulumi.secret(args.userlist).apply((list) => contentVersion(args.pgbouncerIni, list)) },
                maxConcurrency: "1",
                maxErrors: "0",
            },
            { ...child, dependsOn: hosts },
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
        hosts.forEach((host, index) =>
            new aws.lb.TargetGroupAttachment(`${name}-tg-${index + 1}`, { targetGroupArn: targetGroup.arn, targetId: host.id, port: pb.port }, child),
        );
        new aws.lb.Listener(
            `${name}-listener`,
            { loadBalancerArn: nlb.arn, port: pb.port, protocol: "TCP", defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }] },
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

        this.endpoint = hostPort(pb.dnsName, pb.port);
        this.poolEndpoints = pulumi.all(hosts.map((host) => host.privateIp)).apply((ips) => ips.map((ip) => hostPort(ip, pb.port)));
        this.instanceIds = pulumi.all(hosts.map((host) => host.id));
        this.registerOutputs({ endpoint: this.endpoint, poolEndpoints: this.poolEndpoints, instanceIds: this.instanceIds });
    }
}
