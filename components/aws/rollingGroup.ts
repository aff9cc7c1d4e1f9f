import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { launchTemplateUserData } from "../render/cloudInit";
import { HOST_VOLUME_GB } from "../model/rollout";
import { FLEET_TAG, GROUP_CAPACITY_WAIT, LAUNCH_HOOK_NAME, LAUNCH_HOOK_TIMEOUT_SECONDS } from "../model/rollout";
import { IMDS_V2_ONLY } from "./ec2";
import { COMPONENT_TYPES } from "../model/resources";

export interface RollingGroupArgs {
    /** Subnets the instances spread over. */
    readonly subnetIds: string[];
    /** Instances in service when nothing rolls. */
    readonly desired: number;
    /** Upper bound while a refresh or a health replacement launches before it terminates, in % of desired. */
    readonly maxHealthyPercentage: number;
    /** A concrete AMI id: instance refresh can roll back only to launch templates without an SSM alias. */
    readonly imageId: pulumi.Input<string>;
    /** EC2 instance type. */
    readonly instanceType: string;
    /** Instance profile ARN (its role may complete this group's launch lifecycle actions). */
    readonly instanceProfileArn: pulumi.Input<string>;
    /** Security group of the instances. */
    readonly securityGroupId: pulumi.Input<string>;
    /** cloud-config user data (plain text; no secret); the template holds it gzipped. */
    readonly userData: pulumi.Input<string>;
    /** Load balancer target groups the instances serve in once in service. */
    readonly targetGroupArns: pulumi.Input<string>[];
    /** Seconds a new instance may take to boot before its warm-up is over. */
    readonly warmupSeconds: number;
    /** The fleet tag value the instance role's CompleteLifecycleAction permission names. */
    readonly fleet: string;
    /** Resources the first instances need before they boot (their instance role's policy). */
    readonly bootDependsOn: pulumi.Input<pulumi.Resource>[];
}

/** Holds a new instance until it completes the hook after its readiness check, or abandons it at the timeout. */
const LAUNCH_HOOK = {
    name: LAUNCH_HOOK_NAME,
    lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
    defaultResult: "ABANDON",
    heartbeatTimeout: LAUNCH_HOOK_TIMEOUT_SECONDS,
};

/**
 * An auto scaling group whose instances enter service only after they proved themselves (a
 * launch lifecycle hook the instance completes after a local readiness check) and whose launch
 * template changes roll by instance refresh: launch first, keep 100 % healthy, roll back by itself
 * when a new instance fails. Health is EC2's: a database outage marks no instance unhealthy, so it
 * never makes the group replace its fleet; the load balancer's own health check takes a host that
 * cannot serve out of rotation instead.
 */
export class RollingGroup extends pulumi.ComponentResource {
    public readonly group: aws.autoscaling.Group;
    public readonly launchTemplate: aws.ec2.LaunchTemplate;

    constructor(name: string, args: RollingGroupArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.rollingGroup, name, {}, opts);
        this.launchTemplate = new aws.ec2.LaunchTemplate(
            `${name}-lt`,
            {
                imageId: args.imageId,
                instanceType: args.instanceType,
                iamInstanceProfile: { arn: args.instanceProfileArn },
                vpcSecurityGroupIds: [args.securityGroupId],
                metadataOptions: IMDS_V2_ONLY,
                blockDeviceMappings: [
                    {
                        deviceName: "/dev/xvda",
                        ebs: { encrypted: "true", volumeType: "gp3", volumeSize: HOST_VOLUME_GB, deleteOnTermination: "true" },
                    },
                ],
                userData: pulumi.output(args.userData).apply(launchTemplateUserData),
                updateDefaultVersion: true,
                tagSpecifications: [{ resourceType: "instance", tags: { Name: name } }],
            },
            { parent: this, dependsOn: args.bootDependsOn },
        );
        const healthy = { minHealthyPercentage: 100, maxHealthyPercentage: args.maxHealthyPercentage };
        this.group = new aws.autoscaling.Group(
            `${name}-asg`,
            {
                vpcZoneIdentifiers: args.subnetIds,
                desiredCapacity: args.desired,
                minSize: args.desired,
                maxSize: Math.ceil((args.desired * args.maxHealthyPercentage) / 100),
                // A numbered version, never $Latest: auto rollback needs one to return to.
                launchTemplate: { id: this.launchTemplate.id, version: this.launchTemplate.latestVersion.apply(String) },
                targetGroupArns: args.targetGroupArns,
                healthCheckType: "EC2",
                healthCheckGracePeriod: args.warmupSeconds,
                // The provider's wait for instances in service outlasts the launch hook (rule readinessWithinLaunchHook).
                waitForCapacityTimeout: GROUP_CAPACITY_WAIT,
                // On the group from its creation, so its very first instances are held too.
                initialLifecycleHooks: [LAUNCH_HOOK],
                // Replacing an impaired instance also launches first.
                instanceMaintenancePolicy: healthy,
                instanceRefresh: {
                    strategy: "Rolling",
                    preferences: {
                        ...healthy,
                        autoRollback: true,
                        instanceWarmup: String(args.warmupSeconds),
                        skipMatching: true,
                    },
                },
                tags: [
                    { key: "Name", value: name, propagateAtLaunch: true },
                    { key: FLEET_TAG, value: args.fleet, propagateAtLaunch: false },
                ],
            },
            // The provider replaces a group whose initial hooks changed: a second full fleet beside the old
            // one, twice the hosts and server connections. Later changes of the hook go to the same hook below.
            { parent: this, ignoreChanges: ["initialLifecycleHooks"] },
        );
        // The same hook (one name, so AWS holds one hook): PutLifecycleHook creates or updates it in place.
        new aws.autoscaling.LifecycleHook(
            `${name}-launch-hook`,
            { autoscalingGroupName: this.group.name, ...LAUNCH_HOOK },
            { parent: this },
        );
        this.registerOutputs({ group: this.group.name, launchTemplate: this.launchTemplate.id });
    }
}
