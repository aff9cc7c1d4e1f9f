import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AwsSettings, TierConfig } from "../config/schema";
import { amiFromParameter, base64, renderReceiverUserData } from "../render/cloudInit";
import { PublicFiles } from "../render";
import { ParameterNames } from "../render/parameterNames";
import { IMDS_V2_ONLY } from "./ec2";
import { InstanceRole } from "./instanceRole";

export interface ReceiverFleetArgs {
    /** Validated stack config. */
    readonly config: TierConfig;
    /** The stack's AWS network settings. */
    readonly network: AwsSettings;
    /** AWS region of the stack (for the hosts' AWS CLI). */
    readonly region: string;
    /** SSM parameter names of this stack. */
    readonly parameters: ParameterNames;
    /** Rendered gunicorn.conf.py and receiver.env (not secret). */
    readonly files: PublicFiles;
    /** Rendered secrets.env (secret): DB and stats passwords, the webhook signing secret. */
    readonly secretsEnv: pulumi.Output<string>;
    /** Security group of the receivers. */
    readonly receiverSecurityGroup: aws.ec2.SecurityGroup;
    /** Security group of the public ALB. */
    readonly albSecurityGroup: aws.ec2.SecurityGroup;
}

// A modern TLS-only policy for the public listener.
const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/**
 * Gunicorn receivers in an auto scaling group behind an HTTPS ALB. A config change makes a new
 * launch template version, which rolls the group by instance refresh without dropping below capacity.
 */
export class ReceiverFleet extends pulumi.ComponentResource {
    constructor(name: string, args: ReceiverFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("receiver-tier:aws:ReceiverFleet", name, {}, opts);
        const cfg = args.config;
        const r = cfg.receiver;
        const child = { parent: this };

        const secrets = new aws.ssm.Parameter(
            `${name}-secrets`,
            { name: args.parameters.receiverSecrets, type: "SecureString", value: pulumi.secret(args.secretsEnv) },
            child,
        );
        const role = new InstanceRole(`${name}-instance`, { parameterArns: [secrets.arn], s3ObjectUrl: r.app.artifactUrl }, child);

        const launchTemplate = new aws.ec2.LaunchTemplate(
            `${name}-lt`,
            {
                imageId: amiFromParameter(args.network.amiSsmParameter),
                instanceType: r.instanceType,
                iamInstanceProfile: { arn: role.profile.arn },
                vpcSecurityGroupIds: [args.receiverSecurityGroup.id],
                metadataOptions: IMDS_V2_ONLY,
                blockDeviceMappings: [
                    { deviceName: "/dev/xvda", ebs: { encrypted: "true", volumeType: "gp3", volumeSize: 16, deleteOnTermination: "true" } },
                ],
                userData: secrets.version.apply((version) =>
                    base64(renderReceiverUserData(cfg, args.region, args.parameters, args.files, version)),
                ),
                updateDefaultVersion: true,
                tagSpecifications: [{ resourceType: "instance", tags: { Name: `${name}-receiver` } }],
            },
            { ...child, dependsOn: [role.readPolicy] },
        );

        const alb = new aws.lb.LoadBalancer(
            `${name}-alb`,
            {
                loadBalancerType: "application",
                internal: false,
                subnets: args.network.publicSubnetIds,
                securityGroups: [args.albSecurityGroup.id],
                dropInvalidHeaderFields: true,
            },
            child,
        );
        const targetGroup = new aws.lb.TargetGroup(
            `${name}-tg`,
            {
                vpcId: args.network.vpcId,
                port: r.port,
                protocol: "HTTP",
                targetType: "instance",
                deregistrationDelay: r.gunicorn.graceful_timeout,
                healthCheck: { path: r.healthPath, matcher: "200", interval: 15, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
            },
            child,
        );
        new aws.lb.Listener(
            `${name}-https`,
            {
                loadBalancerArn: alb.arn,
                port: 443,
                protocol: "HTTPS",
                sslPolicy: TLS_POLICY,
                certificateArn: args.network.certificateArn,
                defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
            },
            child,
        );
        new aws.lb.Listener(
            `${name}-http`,
            {
                loadBalancerArn: alb.arn,
                port: 80,
                protocol: "HTTP",
                defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
            },
            child,
        );

        new aws.autoscaling.Group(
            `${name}-asg`,
            {
                vpcZoneIdentifiers: args.network.privateSubnetIds,
                desiredCapacity: r.instances,
                minSize: r.instances,
                // Room to launch replacements before terminating during an instance refresh.
                maxSize: r.instances * 2,
                launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
                targetGroupArns: [targetGroup.arn],
                // EC2, not ELB: the ALB's health check follows the database, and a database outage
                // must take receivers out of rotation, not make the group replace every one of them.
                healthCheckType: "EC2",
                healthCheckGracePeriod: 180,
                instanceRefresh: {
                    strategy: "Rolling",
                    preferences: { minHealthyPercentage: 100, maxHealthyPercentage: 200, instanceWarmup: "120", skipMatching: true },
                },
                tags: [{ key: "Name", value: `${name}-receiver`, propagateAtLaunch: true }],
            },
            child,
        );
        new aws.route53.Record(
            `${name}-dns`,
            {
                zoneId: args.network.publicZoneId,
                name: r.domain,
                type: "A",
                aliases: [{ name: alb.dnsName, zoneId: alb.zoneId, evaluateTargetHealth: true }],
            },
            child,
        );

        this.registerOutputs({});
    }
}
