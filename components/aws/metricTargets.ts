import * as pulumi from "@pulumi/pulumi";

/** A fleet's load balancer and target group as CloudWatch names them (ARN suffixes). */
export interface MetricTargets {
    readonly loadBalancer: pulumi.Output<string>;
    readonly targetGroup: pulumi.Output<string>;
}
