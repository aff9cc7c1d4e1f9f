import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { MetricTargets } from "./metricTargets";
import { AwsSettings, ReceiverSection } from "../schema/schema";
import { ALB_HEALTH_CHECK, ALB_IDLE_TIMEOUT_SECONDS } from "../model/rollout";
import { aliasRecord, RecordAdoption } from "./aliasRecord";
import { InstanceRole } from "./instanceRole";
import { RollingGroup } from "./rollingGroup";
import { COMPONENT_TYPES, RESOURCE_NAMES } from "../model/resources";

/** What the fleet reads of the receiver section. */
export type ReceiverPlacement = Pick<ReceiverSection, "instances" | "instanceType" | "healthPath"> & {
    readonly gunicorn: Pick<ReceiverSection["gunicorn"], "graceful_timeout">;
    readonly nginx: Pick<ReceiverSection["nginx"], "port">;
    readonly app: Pick<ReceiverSection["app"], "artifactUrl">;
};

export interface ReceiverFleetArgs {
    /** Receivers in service and their instance type, nginx's port (the ALB's target) and the health path, Gunicorn's graceful_timeout (the ALB's drain), the app artifact. */
    readonly receiver: ReceiverPlacement;
    /** The public name of the receivers (receiver.domain): an alias of the ALB. */
    readonly domain: string;
    /** Where the receivers run: the VPC, its subnets and public zone, the certificate, the AMI's SSM parameter. */
    readonly network: Pick<
        AwsSettings,
        "vpcId" | "privateSubnetIds" | "publicSubnetIds" | "publicZoneId" | "certificateArn" | "amiSsmParameter"
    >;
    /** Whether the public DNS record is taken over (adopt.publicRecord, adopt.overwriteRecords.public). */
    readonly recordAdoption: RecordAdoption;
    /** The only CloudWatch namespace the receivers may publish metrics to. */
    readonly metricsNamespace: string;
    /** AWS region of the stack (the instance role names its Session Manager agent package). */
    readonly region: string;
    /** SSM name of the receivers' secrets.env. */
    readonly secretsParameter: string;
    /** Rendered secrets.env (secret): the active logins' passwords, the webhook signing secret. */
    readonly secretsEnv: pulumi.Output<string>;
    /** Renders a receiver's user data for the secrets parameter's version and PgBouncer's CA (no secret). */
    readonly userData: (secretsVersion: number, pgbouncerCa: string | undefined) => string;
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

/**
 * Gunicorn receivers in an auto scaling group behind an HTTPS ALB. A config change makes a new
 * launch template version, which rolls the group by instance refresh: every new receiver is in
 * service only after its health check (which logs in through PgBouncer) answered locally, and a
 * refresh whose receivers never get there rolls back, leaving the old fleet serving.
 */
export class ReceiverFleet extends pulumi.ComponentResource {
    /** The auto scaling group of the receivers. */
    public readonly groupName: pulumi.Output<string>;
    /** The ALB and its target group, for the alarms and the dashboard. */
    public readonly metricTargets: MetricTargets;

    constructor(
        private readonly name: string,
        args: ReceiverFleetArgs,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super(COMPONENT_TYPES.receiverFleet, name, {}, opts);
        const secrets = new aws.ssm.Parameter(
            `${name}-secrets`,
            { name: args.secretsParameter, type: "SecureString", value: pulumi.secret(args.secretsEnv) },
            { parent: this },
        );
        const role = new InstanceRole(
            `${name}-instance`,
            {
                parameterArns: [secrets.arn],
                s3ObjectUrl: args.receiver.app.artifactUrl,
                fleet: name,
                metricsNamespace: args.metricsNamespace,
                region: args.region,
            },
            { parent: this },
        );
        const { alb, targetGroup } = this.loadBalancer(args);
        this.listeners(args, alb, targetGroup);
        const receivers = this.receivers(args, role, targetGroup, secrets);
        aliasRecord(
            RESOURCE_NAMES.aliasRecord(name),
            {
                zoneId: args.network.publicZoneId,
                name: args.domain,
                loadBalancer: alb,
                adoption: args.recordAdoption,
                group: receivers.group,
            },
            this,
        );

        this.groupName = receivers.group.name;
        this.metricTargets = { loadBalancer: alb.arnSuffix, targetGroup: targetGroup.arnSuffix };
        this.registerOutputs({ groupName: this.groupName, metricTargets: this.metricTargets });
    }

    /** The public ALB and the target group the receivers join. */
    private loadBalancer(args: ReceiverFleetArgs) {
        const child = { parent: this };
        const alb = new aws.lb.LoadBalancer(
            `${this.name}-alb`,
            {
                loadBalancerType: "application",
                internal: false,
                subnets: args.network.publicSubnetIds,
                securityGroups: [args.albSecurityGroup.id],
                dropInvalidHeaderFields: true,
                // nginx on the targets keeps idle connections longer (rule proxyChainCoherent), so the ALB closes first.
                idleTimeout: ALB_IDLE_TIMEOUT_SECONDS,
            },
            child,
        );
        const targetGroup = new aws.lb.TargetGroup(
            `${this.name}-tg`,
            {
                vpcId: args.network.vpcId,
                // nginx, which buffers each request whole before Gunicorn (on loopback) sees it.
                port: args.receiver.nginx.port,
                protocol: "HTTP",
                targetType: "instance",
                deregistrationDelay: args.receiver.gunicorn.graceful_timeout,
                healthCheck: {
                    path: args.receiver.healthPath,
                    matcher: "200",
                    ...ALB_HEALTH_CHECK,
                },
            },
            child,
        );
        return { alb, targetGroup };
    }

    /** HTTPS to the receivers; plain HTTP only redirects. */
    private listeners(args: ReceiverFleetArgs, alb: aws.lb.LoadBalancer, targetGroup: aws.lb.TargetGroup): void {
        const child = { parent: this };
        new aws.lb.Listener(
            `${this.name}-https`,
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
            `${this.name}-http`,
            {
                loadBalancerArn: alb.arn,
                port: 80,
                protocol: "HTTP",
                defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
            },
            child,
        );
    }

    /** The receivers: a whole second fleet at once on a roll; a new secrets version or CA rolls them. */
    private receivers(args: ReceiverFleetArgs, role: InstanceRole, targetGroup: aws.lb.TargetGroup, secrets: aws.ssm.Parameter) {
        const child = { parent: this };
        return new RollingGroup(
            `${this.name}-hosts`,
            {
                subnetIds: args.network.privateSubnetIds,
                desired: args.receiver.instances,
                // A whole second fleet at once: receivers hold no state, so the roll is fast.
                maxHealthyPercentage: 200,
                imageId: aws.ssm.getParameterOutput({ name: args.network.amiSsmParameter }, child).value,
                instanceType: args.receiver.instanceType,
                instanceProfileArn: role.profile.arn,
                securityGroupId: args.receiverSecurityGroup.id,
                // A new CA makes a new launch template version: the fleet rolls onto it.
                userData: pulumi.all([secrets.version, args.pgbouncerCa]).apply(([version, ca]) => args.userData(version, ca)),
                targetGroupArns: [targetGroup.arn],
                warmupSeconds: RECEIVER_WARMUP_SECONDS,
                fleet: this.name,
                bootDependsOn: [role.readPolicy],
            },
            child,
        );
    }
}
