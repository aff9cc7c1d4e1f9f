import { DescribeRouteTablesCommand, DescribeVpcEndpointsCommand, EC2Client, RouteTable } from "@aws-sdk/client-ec2";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { AwsSettings, TierConfig } from "../components/schema/schema";
import { Check, fail, pass, reason } from "./result";

// What the hosts need at boot that the stack does not create: a way out of the private subnets (apt,
// and the AWS APIs their scripts call), the AMI behind the SSM alias, and the receiver artifact.

/** The AWS APIs the host scripts call (files/host, files/receiver, files/pgbouncer), as VPC endpoint services. */
const HOST_API_SERVICES = ["ssm", "autoscaling", "monitoring", "s3"] as const;

const key = (name: string) => `receiver-tier:aws.${name}`;

/** A default route to a NAT gateway, transit gateway, instance or interface: somewhere a private host's traffic leaves by. */
function defaultRouteOut(table: RouteTable): string | undefined {
    const route = (table.Routes ?? []).find((r) => r.DestinationCidrBlock === "0.0.0.0/0" && r.State !== "blackhole");
    if (route === undefined) return undefined;
    return route.NatGatewayId ?? route.TransitGatewayId ?? route.NetworkInterfaceId ?? route.InstanceId ?? route.GatewayId;
}

/** The route table each private subnet uses: its own association, else the VPC's main table. */
function tableOf(subnetId: string, tables: readonly RouteTable[]): RouteTable | undefined {
    const own = tables.find((t) => (t.Associations ?? []).some((a) => a.SubnetId === subnetId));
    return own ?? tables.find((t) => (t.Associations ?? []).some((a) => a.Main === true));
}

/**
 * Egress from every private subnet: apt needs the internet (a NAT or another default route); the AWS
 * APIs are reached that way too, or through VPC endpoints. A subnet without a default route fails.
 */
export async function egressChecks(aws: AwsSettings, region: string, ec2: EC2Client): Promise<Check[]> {
    try {
        const tables =
            (await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [aws.vpcId] }] }))).RouteTables ?? [];
        const endpoints =
            (await ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: "vpc-id", Values: [aws.vpcId] }] }))).VpcEndpoints ?? [];
        const viaEndpoint = HOST_API_SERVICES.filter((service) =>
            endpoints.some((e) => e.ServiceName === `com.amazonaws.${region}.${service}` && e.State?.toLowerCase() === "available"),
        );
        return aws.privateSubnetIds.map((subnet) => {
            const table = tableOf(subnet, tables);
            const out = table === undefined ? undefined : defaultRouteOut(table);
            if (out === undefined) {
                return fail(
                    `${key("privateSubnetIds")} ${subnet} has no default route (NAT gateway): hosts cannot install their packages with apt` +
                        (viaEndpoint.length < HOST_API_SERVICES.length
                            ? ` nor reach ${HOST_API_SERVICES.filter((s) => !viaEndpoint.includes(s)).join(", ")} (no VPC endpoint)`
                            : ""),
                );
            }
            const apis = viaEndpoint.length > 0 ? `; VPC endpoints for ${viaEndpoint.join(", ")}` : "";
            return pass(`${key("privateSubnetIds")} ${subnet} reaches apt and the AWS APIs through ${out}${apis}`);
        });
    } catch (err) {
        return [fail(`${key("privateSubnetIds")} route tables: ${reason(err)}`)];
    }
}

/** The AMI alias both launch templates read (an SSM public parameter). */
export async function amiParameterCheck(aws: AwsSettings, ssm: SSMClient): Promise<Check> {
    try {
        const parameter = (await ssm.send(new GetParameterCommand({ Name: aws.amiSsmParameter }))).Parameter;
        if (parameter?.Value?.startsWith("ami-")) return pass(`${key("amiSsmParameter")} ${aws.amiSsmParameter} is ${parameter.Value}`);
        return fail(`${key("amiSsmParameter")} ${aws.amiSsmParameter} holds ${parameter?.Value ?? "nothing"}, not an AMI id`);
    } catch (err) {
        return fail(
            `${key("amiSsmParameter")} ${aws.amiSsmParameter}: ${reason(err)} (name a parameter that holds an AMI id in this region)`,
        );
    }
}

/** The receiver artifact every new receiver downloads at boot (receiver.app.artifactUrl). */
export async function artifactCheck(cfg: TierConfig, s3: S3Client): Promise<Check[]> {
    const url = cfg.receiver.app.artifactUrl;
    if (url === undefined) return [];
    const name = "receiver-tier:receiver.app.artifactUrl";
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
    if (!match) return [fail(`${name} ${url} is not s3://bucket/key`)];
    const [, bucket, objectKey] = match as unknown as [string, string, string];
    try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey }));
        return [pass(`${name} ${url} exists (${head.ContentLength ?? "?"} bytes)`)];
    } catch (err) {
        return [fail(`${name} ${url}: ${reason(err)} (upload the artifact before pulumi up: every new receiver downloads it at boot)`)];
    }
}
