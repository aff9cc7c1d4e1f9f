import { ACMClient, DescribeCertificateCommand } from "@aws-sdk/client-acm";
import {
    DescribeRouteTablesCommand,
    DescribeSecurityGroupsCommand,
    DescribeSubnetsCommand,
    DescribeVpcEndpointsCommand,
    DescribeVpcsCommand,
    EC2Client,
} from "@aws-sdk/client-ec2";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { GetHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from "@aws-sdk/client-route-53";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { TierConfig } from "../../../components/schema/schema";
import { awsChecks, certificateCovers } from "../../../checks/preflightAws";
import { Check } from "../../../checks/result";
import { NO_STATE, StackState } from "../../../checks/stackState";
import { loadCanary, loadCanaryWith } from "../support/stackConfig";
import { exportOf, readExport } from "./stackExport";

// Preflight's AWS half against mocked SDK v3 clients: a healthy account passes every line, and each
// way the account can differ from the stack file fails exactly one line that names the key.

const cfg = loadCanary();
const aws = cfg.aws as NonNullable<TierConfig["aws"]>;
const sts = mockClient(STSClient);
const ec2 = mockClient(EC2Client);
const acm = mockClient(ACMClient);
const route53 = mockClient(Route53Client);
const ssm = mockClient(SSMClient);
const s3 = mockClient(S3Client);
const clients = {
    sts: new STSClient({}),
    ec2: new EC2Client({}),
    acm: new ACMClient({}),
    route53: new Route53Client({}),
    ssm: new SSMClient({}),
    s3: new S3Client({}),
};
const check = (config: TierConfig, region: string | undefined, state: StackState = NO_STATE) =>
    awsChecks(config, "canary", state, region, clients);

function healthyAccount(): void {
    for (const mock of [sts, ec2, acm, route53, ssm, s3]) mock.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: "111111111111", Arn: "arn:aws:sts::111111111111:assumed-role/deploy/x" });
    ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: aws.vpcId }] });
    ec2.on(DescribeSubnetsCommand).callsFake((input: { SubnetIds: string[] }) => ({
        Subnets: input.SubnetIds.map((id, i) => ({ SubnetId: id, VpcId: aws.vpcId, AvailabilityZone: `us-east-1${"abc"[i]}` })),
    }));
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: aws.postgresSecurityGroupId, VpcId: aws.vpcId }] });
    // The private subnets leave through a NAT gateway (one table for both, associated explicitly).
    ec2.on(DescribeRouteTablesCommand).resolves({
        RouteTables: [
            { Associations: [{ Main: true }], Routes: [{ DestinationCidrBlock: "10.0.0.0/16", GatewayId: "local" }] },
            {
                Associations: aws.privateSubnetIds.map((SubnetId) => ({ SubnetId })),
                Routes: [{ DestinationCidrBlock: "0.0.0.0/0", NatGatewayId: "nat-0abc", State: "active" }],
            },
        ],
    });
    ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
    ssm.on(GetParameterCommand, { Name: aws.amiSsmParameter }).resolves({
        Parameter: { Name: aws.amiSsmParameter, Value: "ami-0123456789abcdef0" },
    });
    s3.on(HeadObjectCommand).resolves({ ContentLength: 2048 });
    acm.on(DescribeCertificateCommand).resolves({
        Certificate: { Status: "ISSUED", DomainName: "api-canary.deltacrown.gg", SubjectAlternativeNames: ["api-canary.deltacrown.gg"] },
    });
    route53.on(GetHostedZoneCommand, { Id: aws.publicZoneId }).resolves({
        HostedZone: { Id: aws.publicZoneId, Name: "deltacrown.gg.", CallerReference: "x", Config: { PrivateZone: false } },
    });
    route53.on(GetHostedZoneCommand, { Id: aws.privateZoneId }).resolves({
        HostedZone: { Id: aws.privateZoneId, Name: "internal.", CallerReference: "y", Config: { PrivateZone: true } },
        VPCs: [{ VPCId: aws.vpcId, VPCRegion: "us-east-1" }],
    });
    // Route 53 lists from the start name on: the next record in the zone, not the one asked for.
    route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [{ Name: "zz.deltacrown.gg.", Type: "A" }] });
}

const failures = (checks: Check[]) => checks.filter((c) => !c.passed).map((c) => c.name);

describe("preflight AWS checks", () => {
    beforeEach(healthyAccount);

    it("passes every line for an account that matches the stack file", async () => {
        const checks = await check(cfg, "us-east-1");
        expect(failures(checks)).toEqual([]);
        expect(checks.map((c) => c.name)).toEqual([
            "AWS credentials: arn:aws:sts::111111111111:assumed-role/deploy/x (account 111111111111), region us-east-1",
            `receiver-tier:aws.vpcId ${aws.vpcId} exists`,
            `receiver-tier:aws.privateSubnetIds: 2 subnets in ${aws.vpcId}, 2 availability zone(s)`,
            `receiver-tier:aws.publicSubnetIds: 2 subnets in ${aws.vpcId}, 2 availability zone(s)`,
            `receiver-tier:aws.postgresSecurityGroupId ${aws.postgresSecurityGroupId} exists in ${aws.vpcId}`,
            ...aws.privateSubnetIds.map((id) => `receiver-tier:aws.privateSubnetIds ${id} reaches apt and the AWS APIs through nat-0abc`),
            `receiver-tier:aws.amiSsmParameter ${aws.amiSsmParameter} is ami-0123456789abcdef0`,
            "receiver-tier:aws.certificateArn is ISSUED and covers api-canary.deltacrown.gg",
            `receiver-tier:aws.publicZoneId ${aws.publicZoneId} (deltacrown.gg.) holds api-canary.deltacrown.gg`,
            "record api-canary.deltacrown.gg A does not exist yet: the stack creates it",
            `receiver-tier:aws.privateZoneId ${aws.privateZoneId} (internal.) holds pgbouncer.internal`,
            "record pgbouncer.internal A does not exist yet: the stack creates it",
        ]);
    });

    const cases: [string, () => void, RegExp][] = [
        [
            "no credentials",
            () => sts.on(GetCallerIdentityCommand).rejects(new Error("Could not load credentials from any providers")),
            /^AWS credentials: .*Could not load credentials/,
        ],
        [
            "a missing VPC",
            () => ec2.on(DescribeVpcsCommand).rejects(new Error("The vpc ID 'x' does not exist")),
            /^receiver-tier:aws\.vpcId .*does not exist/,
        ],
        [
            "a subnet of another VPC",
            () =>
                ec2
                    .on(DescribeSubnetsCommand, { SubnetIds: aws.privateSubnetIds })
                    .resolves({ Subnets: aws.privateSubnetIds.map((id) => ({ SubnetId: id, VpcId: "vpc-other", AvailabilityZone: "a" })) }),
            /^receiver-tier:aws\.privateSubnetIds: not in vpc-/,
        ],
        [
            "a missing security group",
            () => ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] }),
            /^receiver-tier:aws\.postgresSecurityGroupId sg-\w+ not found/,
        ],
        [
            "a certificate still pending validation",
            () =>
                acm
                    .on(DescribeCertificateCommand)
                    .resolves({ Certificate: { Status: "PENDING_VALIDATION", DomainName: "api-canary.deltacrown.gg" } }),
            /^receiver-tier:aws\.certificateArn is PENDING_VALIDATION, not ISSUED/,
        ],
        [
            "a certificate for production's name only",
            () => acm.on(DescribeCertificateCommand).resolves({ Certificate: { Status: "ISSUED", DomainName: "api.deltacrown.gg" } }),
            /^receiver-tier:aws\.certificateArn covers api\.deltacrown\.gg, not receiver-tier:receiver\.domain api-canary/,
        ],
        [
            "a missing zone",
            () => route53.on(GetHostedZoneCommand, { Id: aws.publicZoneId }).rejects(new Error("No hosted zone found with ID")),
            /^receiver-tier:aws\.publicZoneId \w+: .*No hosted zone/,
        ],
        [
            "a private zone not associated with the VPC",
            () =>
                route53.on(GetHostedZoneCommand, { Id: aws.privateZoneId }).resolves({
                    HostedZone: { Id: aws.privateZoneId, Name: "internal.", CallerReference: "y", Config: { PrivateZone: true } },
                    VPCs: [{ VPCId: "vpc-other", VPCRegion: "us-east-1" }],
                }),
            /^receiver-tier:aws\.privateZoneId \w+ is not associated with vpc-/,
        ],
        [
            "a CNAME at the private name",
            () =>
                route53
                    .on(ListResourceRecordSetsCommand, { HostedZoneId: aws.privateZoneId })
                    .resolves({ ResourceRecordSets: [{ Name: "pgbouncer.internal.", Type: "CNAME" }] }),
            /^record pgbouncer\.internal is a CNAME in Z\w+: Route 53 refuses an A alias beside it; delete the CNAME \(receiver-tier:pgbouncer\.dnsName\)$/,
        ],
        [
            "private subnets without a way out",
            () =>
                ec2.on(DescribeRouteTablesCommand).resolves({
                    RouteTables: [
                        { Associations: [{ Main: true }], Routes: [{ DestinationCidrBlock: "10.0.0.0/16", GatewayId: "local" }] },
                    ],
                }),
            /^receiver-tier:aws\.privateSubnetIds subnet-\w+ has no default route \(NAT gateway\): hosts cannot install their packages with apt nor reach ssm, autoscaling, monitoring, s3 \(no VPC endpoint\)$/,
        ],
        [
            "an AMI parameter that does not exist",
            () => ssm.on(GetParameterCommand).rejects(Object.assign(new Error("Parameter not found"), { name: "ParameterNotFound" })),
            /^receiver-tier:aws\.amiSsmParameter \/aws\/service\/debian\/.*: ParameterNotFound: Parameter not found \(name a parameter/,
        ],
        [
            "an existing record made by hand, neither adopted nor overwritable",
            () =>
                route53
                    .on(ListResourceRecordSetsCommand, { HostedZoneId: aws.privateZoneId })
                    .resolves({ ResourceRecordSets: [{ Name: "pgbouncer.internal.", Type: "A" }] }),
            /^record pgbouncer\.internal A already exists: adopt it \(receiver-tier:adopt\.privateRecord: Z\w+_pgbouncer\.internal_A\) or allow receiver-tier:adopt\.overwriteRecords\.private$/,
        ],
    ];

    it.each(cases)("fails one clear line for %s", async (_what, breakIt, line) => {
        breakIt();
        const failed = failures(await check(cfg, "us-east-1"));
        expect(failed.length, failed.join("\n")).toBe(
            failed.length > 1 && /has no default route/.test(failed[0] ?? "") ? aws.privateSubnetIds.length : 1,
        );
        expect(failed[0]).toMatch(line);
    });

    it("fails when the stack file has no region, and when the certificate is in another region", async () => {
        expect(failures(await check(cfg, undefined))).toEqual(["aws:region is not set in the stack file"]);
        expect(failures(await check(cfg, "eu-west-1"))).toEqual([
            "receiver-tier:aws.certificateArn is in us-east-1; the ALB in eu-west-1 needs a certificate there",
        ]);
    });

    it("accepts an existing record that is adopted or explicitly overwritten, and refuses an adopt id with no record", async () => {
        route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [{ Name: "pgbouncer.internal.", Type: "A" }] });
        const adopted = loadCanaryWith(["adopt", { privateRecord: `${aws.privateZoneId}_pgbouncer.internal_A` }]);
        expect(failures(await check(adopted, "us-east-1"))).toEqual([]);
        const overwritten = loadCanaryWith(["adopt", { overwriteRecords: { private: true } }]);
        expect(failures(await check(overwritten, "us-east-1"))).toEqual([]);
        healthyAccount();
        expect(failures(await check(adopted, "us-east-1"))).toEqual([
            "receiver-tier:adopt.privateRecord is set but pgbouncer.internal A does not exist: remove it",
        ]);
    });
});

describe("preflight AWS checks with the stack's state", () => {
    beforeEach(healthyAccount);

    it("passes a later deploy: both records exist and are the stack's own", async () => {
        route53
            .on(ListResourceRecordSetsCommand, { HostedZoneId: aws.privateZoneId })
            .resolves({ ResourceRecordSets: [{ Name: "pgbouncer.internal.", Type: "A" }] });
        route53
            .on(ListResourceRecordSetsCommand, { HostedZoneId: aws.publicZoneId })
            .resolves({ ResourceRecordSets: [{ Name: "api-canary.deltacrown.gg.", Type: "A" }] });
        const state = readExport(
            exportOf(["aws:route53/record:Record", "canary-pgbouncer-dns"], ["aws:route53/record:Record", "canary-receivers-dns"]),
        );
        const checks = await check(cfg, "us-east-1", state);
        expect(failures(checks)).toEqual([]);
        expect(checks.map((c) => c.name)).toContain("record pgbouncer.internal A is the stack's own (in its state)");
        expect(checks.map((c) => c.name)).toContain("record api-canary.deltacrown.gg A is the stack's own (in its state)");
        // The same account without the state: the first-deploy check refuses the records it finds.
        expect(failures(await check(cfg, "us-east-1"))).toHaveLength(2);
    });

    it("names the artifact that is missing, and checks none where the reference app is chosen", async () => {
        const prod = loadCanaryWith(["receiver.app", { artifactUrl: "s3://artifacts/webhook-receiver/1.0.0.tar.gz" }]);
        s3.on(HeadObjectCommand, { Bucket: "artifacts", Key: "webhook-receiver/1.0.0.tar.gz" }).rejects(
            Object.assign(new Error("Not Found"), { name: "NotFound" }),
        );
        expect(failures(await check(prod, "us-east-1"))).toEqual([
            "receiver-tier:receiver.app.artifactUrl s3://artifacts/webhook-receiver/1.0.0.tar.gz: NotFound: Not Found (upload the artifact before pulumi up: every new receiver downloads it at boot)",
        ]);
        expect((await check(cfg, "us-east-1")).some((c) => c.name.includes("artifactUrl"))).toBe(false);
    });
});

describe("certificateCovers", () => {
    it("matches exact names and one-label wildcards, as TLS clients do", () => {
        expect(certificateCovers("api-canary.deltacrown.gg", "api-canary.deltacrown.gg")).toBe(true);
        expect(certificateCovers("*.deltacrown.gg", "api-canary.deltacrown.gg")).toBe(true);
        expect(certificateCovers("*.deltacrown.gg", "a.b.deltacrown.gg")).toBe(false);
        expect(certificateCovers("*.deltacrown.gg", "deltacrown.gg")).toBe(false);
        expect(certificateCovers("api.deltacrown.gg", "api-canary.deltacrown.gg")).toBe(false);
    });
});
