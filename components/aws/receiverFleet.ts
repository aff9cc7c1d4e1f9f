import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AwsSettings, TierConfig } from "../config/schema";
import { renderReceiverUserData } from "../render/cloudInit";
import { PublicFiles } from "../render";
import { publicDomain } from "../render/endpoints";
import { ParameterNames } from "../render/parameterNames";
import { metricsNamespace } from "../render/monitoring";
import { InstanceRole } from "./instanceRole";
import { RollingGroup } from "./rollingGroup";

export interface ReceiverFleetArgs {
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
    /** Rendered gunicorn.conf.py and receiver.env (not secret). */
    readonly files: PublicFiles;
    /** Rendered secrets.env (secret): the active logins' passwords, the webhook signing secret. */
    readonly secretsEnv: pulumi.Output<string>;
    /** The CA of PgBouncer's certificate (DB_SSLROOTCERT), when PgBouncer serves TLS. */
    readonly pgbouncerCa?: pulumi.Output<string>;
    /** Security group of the receivers. */
    readonly receiverSecurityGroup: aws.ec2.SecurityGroup;
    /** Security group of the public ALB. */
    readonly albSecurityGroup: aws.ec2.SecurityGroup;
}

// A modern TLS-only policy for the public listener.
const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/** Seconds a receiver takes from launch to serving: packages, the app, its first healthy answer. */
const RECEIVER_WARMUP_SECONDS = 180;
/** The ALB's health check: a slow answer counts as a failure after this many seconds. */
const HEALTH_CHECK_TIMEOUT_SECONDS = 5;

/**
 * Gunicorn receivers in an auto scaling group behind an HTTPS ALB. A config change makes a new
 * launch template version, which rolls the group by instance refresh: every new receiver is in
 * service only after its health check (which logs in through PgBouncer) answered locally, and a
 * refresh whose receivers never get there rolls back, leaving the old fleet serving.
 */
export class ReceiverFleet extends pulumi.ComponentResource {
    /** The auto scaling group of the receivers. */
    public readonly groupName: pulumi.Output<string>;
    /** The ALB and its target group as CloudWatch names them (ARN suffixes). */
    public readonly metricTargets: { readonly loadBalancer: pulumi.Output<string>; readonly targetGroup: pulumi.Output<string> };

    constructor(name: string, args: ReceiverFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("receiver-tier:aws:ReceiverFleet", name, {}, opts);
        const r = args.config.receiver;
        const child = { parent: this };

        const secrets = new aws.ssm.Parameter(
            `${name}-secrets`,
            { name: args.parameters.receiverSecrets, type: "SecureString", value: pulumi.secret(args.secretsEnv) },
            child,
        );
        const role = new InstanceRole(
            `${name}-instance`,
            {
                parameterArns: [secrets.arn],
                s3ObjectUrl: r.app.artifactUrl,
                fleet: name,
                metricsNamespace: metricsNamespace(args.config, args.stack),
            },
            child,
        );
        const { alb, targetGroup } = this.loadBalancer(name, args);

        const receivers = new RollingGroup(
            `${name}-hosts`,
            {
                subnetIds: args.network.privateSubnetIds,
                desired: r.instances,
                // A whole second fleet at once: receivers hold no state, so the roll is fast.
                maxHealthyPercentage: 200,
                imageId: aws.ssm.getParameterOutput({ name: args.network.amiSsmParameter }, child).value,
                instanceType: r.instanceType,
                instanceProfileArn: role.profile.arn,
                securityGroupId: args.receiverSecurityGroup.id,
                // A new CA makes a new launch template version: the fleet rolls onto it.
                userData: pulumi
                    .all([secrets.version, args.pgbouncerCa])
                    .apply(([version, ca]) =>
                        renderReceiverUserData(args.config, args.stack, args.region, args.parameters, args.files, version, ca),
                    ),
                targetGroupArns: [targetGroup.arn],
                warmupSeconds: RECEIVER_WARMUP_SECONDS,
                fleet: name,
                bootDependsOn: [role.readPolicy],
            },
            child,
        );

        this.groupName = receivers.group.name;
        this.metricTargets = { loadBalancer: alb.arnSuffix, targetGroup: targetGroup.arnSuffix };
        this.registerOutputs({ groupName: this.groupName });
    }

    /** The public HTTPS ALB, its DNS name and the target group the receivers join. */
    private loadBalancer(name: string, args: ReceiverFleetArgs) {
        const child = { parent: this };
        const r = args.config.receiver;
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
                healthCheck: {
                    path: r.healthPath,
                    matcher: "200",
                    interval: 15,
                    timeout: HEALTH_CHECK_TIMEOUT_SECONDS,
                    healthyThreshold: 2,
                    unhealthyThreshold: 3,
                },
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
        new aws.route53.Record(
            `${name}-dns`,
            {
                zoneId: args.network.publicZoneId,
                name: publicDomain(args.config),
                type: "A",
                aliases: [{ name: alb.dnsName, zoneId: alb.zoneId, evaluateTargetHealth: true }],
                // Taking over a record made by hand: an explicit choice per record (adopt.overwriteRecords).
                allowOverwrite: args.config.adopt.overwriteRecords.public,
            },
            { ...child, import: args.config.adopt.publicRecord },
        );
        return { alb, targetGroup };
    }
}
