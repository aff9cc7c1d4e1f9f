import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { renderEc2AssumeRolePolicy, renderInstancePolicy } from "../render/iamPolicies";
import { COMPONENT_TYPES } from "../model/resources";

export interface InstanceRoleArgs {
    /** SSM parameters the instances may read (their secrets and config), and nothing else. */
    readonly parameterArns: pulumi.Input<string>[];
    /** An S3 object the instances may read (the receiver app artifact), if any. */
    readonly s3ObjectUrl?: string;
    /** The fleet tag of the auto scaling group whose launch lifecycle actions the instances complete. */
    readonly fleet: string;
    /** The only CloudWatch namespace the instances may publish metrics to. */
    readonly metricsNamespace: string;
    /** AWS region of the instances: Session Manager's agent package comes from the region's bucket. */
    readonly region: string;
}

/** An instance profile that may read exactly the given parameters and admit itself to its own group. */
export class InstanceRole extends pulumi.ComponentResource {
    public readonly profile: aws.iam.InstanceProfile;
    /** Instances depend on it: their first boot reads the parameters. */
    public readonly readPolicy: aws.iam.RolePolicy;

    constructor(name: string, args: InstanceRoleArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.instanceRole, name, {}, opts);
        const role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: renderEc2AssumeRolePolicy() }, { parent: this });
        this.readPolicy = new aws.iam.RolePolicy(
            `${name}-read`,
            {
                role: role.id,
                policy: pulumi
                    .all(args.parameterArns)
                    .apply((arns) => renderInstancePolicy(arns, args.fleet, args.metricsNamespace, args.region, args.s3ObjectUrl)),
            },
            { parent: this },
        );
        this.profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name }, { parent: this });
        this.registerOutputs({ profile: this.profile.arn, readPolicy: this.readPolicy.id });
    }
}
