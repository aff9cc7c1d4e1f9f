import { SESSION_MANAGER_ACTIONS, ssmAgentPackage } from "../model/sessionManager";
import { FLEET_TAG } from "../model/rollout";

/** Trust policy letting EC2 instances assume a role. */
export function renderEc2AssumeRolePolicy(): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
}

/**
 * Read access to exactly these SSM parameters (and, optionally, one S3 object); the right to
 * complete launch lifecycle actions of the auto scaling group tagged with `fleet` only; to
 * publish metrics to `metricsNamespace` only; and what Session Manager's agent needs, with its package.
 */
export function renderInstancePolicy(
    parameterArns: readonly string[],
    fleet: string,
    metricsNamespace: string,
    region: string,
    s3ObjectUrl?: string,
): string {
    const statements: object[] = [{ Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [...parameterArns] }];
    if (s3ObjectUrl) {
        statements.push({ Effect: "Allow", Action: ["s3:GetObject"], Resource: `arn:aws:s3:::${s3ObjectUrl.replace(/^s3:\/\//, "")}` });
    }
    // Which group the instance is in: a read-only call that takes no resource.
    statements.push({ Effect: "Allow", Action: ["autoscaling:DescribeAutoScalingInstances"], Resource: "*" });
    statements.push({
        Effect: "Allow",
        Action: ["autoscaling:CompleteLifecycleAction"],
        Resource: "*",
        Condition: { StringEquals: { [`autoscaling:ResourceTag/${FLEET_TAG}`]: fleet } },
    });
    // PutMetricData takes no resource; the namespace condition is what scopes it.
    statements.push({
        Effect: "Allow",
        Action: ["cloudwatch:PutMetricData"],
        Resource: "*",
        Condition: { StringEquals: { "cloudwatch:namespace": metricsNamespace } },
    });
    // Session Manager: the agent registers the instance and opens its channels; the package it installs from.
    statements.push({ Effect: "Allow", Action: [...SESSION_MANAGER_ACTIONS], Resource: "*" });
    statements.push({ Effect: "Allow", Action: ["s3:GetObject"], Resource: ssmAgentPackage(region).arn });
    return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}
