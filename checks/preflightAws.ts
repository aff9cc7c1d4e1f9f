import { ACMClient, DescribeCertificateCommand } from "@aws-sdk/client-acm";
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from "@aws-sdk/client-route-53";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { S3Client } from "@aws-sdk/client-s3";
import { SSMClient } from "@aws-sdk/client-ssm";
import { recordImportId } from "../components/model/names";
import { RESOURCE_NAMES, RESOURCE_TYPES } from "../components/model/resources";
import { AwsSettings, TierConfig } from "../components/schema/schema";
import { amiParameterCheck, artifactCheck, egressChecks } from "./preflightHostNeeds";
import { Check, fail, pass, reason } from "./result";
import { StackState } from "./stackState";

/** The AWS SDK v3 clients preflight asks (tests pass mocked ones). */
export interface AwsClients {
    readonly sts: STSClient;
    readonly ec2: EC2Client;
    readonly acm: ACMClient;
    readonly route53: Route53Client;
    readonly ssm: SSMClient;
    readonly s3: S3Client;
}

export function awsClients(region: string): AwsClients {
    return {
        sts: new STSClient({ region }),
        ec2: new EC2Client({ region }),
        acm: new ACMClient({ region }),
        route53: new Route53Client({ region }),
        ssm: new SSMClient({ region }),
        s3: new S3Client({ region }),
    };
}

const key = (name: string) => `receiver-tier:aws.${name}`;
const dot = (name: string) => (name.endsWith(".") ? name : `${name}.`).toLowerCase();

/** Whether a certificate name (possibly *.zone) covers a host name, as TLS clients match it. */
export function certificateCovers(certName: string, host: string): boolean {
    const cert = certName.toLowerCase();
    const name = host.toLowerCase();
    if (!cert.startsWith("*.")) return cert === name;
    const [label, ...rest] = name.split(".");
    return label !== undefined && label !== "" && rest.join(".") === cert.slice(2);
}

async function network(aws: AwsSettings, ec2: EC2Client): Promise<Check[]> {
    const checks: Check[] = [];
    try {
        const vpcs = await ec2.send(new DescribeVpcsCommand({ VpcIds: [aws.vpcId] }));
        checks.push(vpcs.Vpcs?.length ? pass(`${key("vpcId")} ${aws.vpcId} exists`) : fail(`${key("vpcId")} ${aws.vpcId} not found`));
    } catch (err) {
        checks.push(fail(`${key("vpcId")} ${aws.vpcId}: ${reason(err)}`));
    }
    for (const [name, ids, minZones] of [
        ["privateSubnetIds", aws.privateSubnetIds, 1],
        ["publicSubnetIds", aws.publicSubnetIds, 2],
    ] as const) {
        try {
            const found = (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [...ids] }))).Subnets ?? [];
            const missing = ids.filter((id) => !found.some((s) => s.SubnetId === id));
            const elsewhere = found.filter((s) => s.VpcId !== aws.vpcId).map((s) => `${s.SubnetId} (in ${s.VpcId})`);
            const zones = new Set(found.map((s) => s.AvailabilityZone)).size;
            if (missing.length > 0) checks.push(fail(`${key(name)}: not found: ${missing.join(", ")}`));
            else if (elsewhere.length > 0) checks.push(fail(`${key(name)}: not in ${aws.vpcId}: ${elsewhere.join(", ")}`));
            else if (zones < minZones) checks.push(fail(`${key(name)}: all in one availability zone; the ALB needs two`));
            else checks.push(pass(`${key(name)}: ${ids.length} subnets in ${aws.vpcId}, ${zones} availability zone(s)`));
        } catch (err) {
            checks.push(fail(`${key(name)}: ${reason(err)}`));
        }
    }
    try {
        const groups =
            (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [aws.postgresSecurityGroupId] }))).SecurityGroups ?? [];
        const group = groups[0];
        if (!group) checks.push(fail(`${key("postgresSecurityGroupId")} ${aws.postgresSecurityGroupId} not found`));
        else if (group.VpcId !== aws.vpcId) checks.push(fail(`${key("postgresSecurityGroupId")} is in ${group.VpcId}, not ${aws.vpcId}`));
        else checks.push(pass(`${key("postgresSecurityGroupId")} ${aws.postgresSecurityGroupId} exists in ${aws.vpcId}`));
    } catch (err) {
        checks.push(fail(`${key("postgresSecurityGroupId")} ${aws.postgresSecurityGroupId}: ${reason(err)}`));
    }
    return checks;
}

async function certificate(aws: AwsSettings, domain: string, region: string, acm: ACMClient): Promise<Check> {
    const arnRegion = aws.certificateArn.split(":")[3];
    if (arnRegion !== region) return fail(`${key("certificateArn")} is in ${arnRegion}; the ALB in ${region} needs a certificate there`);
    try {
        const cert = (await acm.send(new DescribeCertificateCommand({ CertificateArn: aws.certificateArn }))).Certificate;
        const names = [cert?.DomainName, ...(cert?.SubjectAlternativeNames ?? [])].filter((n): n is string => n !== undefined);
        if (cert?.Status !== "ISSUED") return fail(`${key("certificateArn")} is ${cert?.Status ?? "unknown"}, not ISSUED`);
        if (!names.some((name) => certificateCovers(name, domain))) {
            return fail(`${key("certificateArn")} covers ${names.join(", ")}, not receiver-tier:receiver.domain ${domain}`);
        }
        return pass(`${key("certificateArn")} is ISSUED and covers ${domain}`);
    } catch (err) {
        return fail(`${key("certificateArn")}: ${reason(err)}`);
    }
}

interface RecordTarget {
    readonly zoneKey: "publicZoneId" | "privateZoneId";
    readonly zoneId: string;
    readonly private: boolean;
    readonly nameKey: string;
    readonly name: string;
    readonly adoptKey: "publicRecord" | "privateRecord";
    readonly adoptId: string | undefined;
    readonly overwriteKey: "public" | "private";
    readonly overwrite: boolean;
    /** The record is in the stack's state: a deploy after the first, which updates it. */
    readonly own: boolean;
}

async function zoneAndRecord(t: RecordTarget, vpcId: string, route53: Route53Client): Promise<Check[]> {
    let zoneName: string;
    try {
        const zone = await route53.send(new GetHostedZoneCommand({ Id: t.zoneId }));
        zoneName = zone.HostedZone?.Name ?? "";
        const isPrivate = zone.HostedZone?.Config?.PrivateZone === true;
        if (isPrivate !== t.private) return [fail(`${key(t.zoneKey)} ${t.zoneId} is a ${isPrivate ? "private" : "public"} zone`)];
        if (t.private && !(zone.VPCs ?? []).some((v) => v.VPCId === vpcId)) {
            return [fail(`${key(t.zoneKey)} ${t.zoneId} is not associated with ${vpcId}: receivers would not resolve ${t.name}`)];
        }
        if (!dot(t.name).endsWith(`.${dot(zoneName)}`) && dot(t.name) !== dot(zoneName)) {
            return [fail(`${t.nameKey} ${t.name} is not in ${key(t.zoneKey)} ${t.zoneId} (${zoneName})`)];
        }
    } catch (err) {
        return [fail(`${key(t.zoneKey)} ${t.zoneId}: ${reason(err)}`)];
    }
    const zoneLine = pass(`${key(t.zoneKey)} ${t.zoneId} (${zoneName}) holds ${t.name}`);
    const adoptKey = `receiver-tier:adopt.${t.adoptKey}`;
    try {
        // Route 53 lists from the start name on, every type of that name first.
        const listed = await route53.send(
            new ListResourceRecordSetsCommand({ HostedZoneId: t.zoneId, StartRecordName: t.name, MaxItems: 10 }),
        );
        const atName = (listed.ResourceRecordSets ?? []).filter((record) => dot(record.Name ?? "") === dot(t.name));
        if (atName.some((record) => record.Type === "CNAME")) {
            return [
                zoneLine,
                fail(`record ${t.name} is a CNAME in ${t.zoneId}: Route 53 refuses an A alias beside it; delete the CNAME (${t.nameKey})`),
            ];
        }
        const exists = atName.some((record) => record.Type === "A");
        if (t.own) {
            return [
                zoneLine,
                exists
                    ? pass(`record ${t.name} A is the stack's own (in its state)`)
                    : fail(`record ${t.name} A is in the stack's state but not in ${t.zoneId}: run \`pulumi refresh\``),
            ];
        }
        const importId = recordImportId(t.zoneId, t.name);
        if (!exists) {
            return [
                zoneLine,
                t.adoptId === undefined
                    ? pass(`record ${t.name} A does not exist yet: the stack creates it`)
                    : fail(`${adoptKey} is set but ${t.name} A does not exist: remove it`),
            ];
        }
        if (t.adoptId !== undefined) return [zoneLine, pass(`record ${t.name} A exists and is adopted (${adoptKey})`)];
        if (t.overwrite) {
            return [
                zoneLine,
                pass(`record ${t.name} A exists and will be overwritten (receiver-tier:adopt.overwriteRecords.${t.overwriteKey})`),
            ];
        }
        return [
            zoneLine,
            fail(
                `record ${t.name} A already exists: adopt it (${adoptKey}: ${importId}) or allow receiver-tier:adopt.overwriteRecords.${t.overwriteKey}`,
            ),
        ];
    } catch (err) {
        return [zoneLine, fail(`record ${t.name} A in ${t.zoneId}: ${reason(err)}`)];
    }
}

/** Everything on the AWS side that would make `pulumi up` fail, one line each. */
export async function awsChecks(
    cfg: TierConfig,
    stack: string,
    state: StackState,
    region: string | undefined,
    clients: AwsClients,
): Promise<Check[]> {
    if (region === undefined) return [fail("aws:region is not set in the stack file")];
    try {
        const who = await clients.sts.send(new GetCallerIdentityCommand({}));
        const first = pass(`AWS credentials: ${who.Arn} (account ${who.Account}), region ${region}`);
        const aws = cfg.aws;
        const domain = cfg.receiver.domain;
        if (!aws || domain === undefined) return [first];
        const records: RecordTarget[] = [
            {
                zoneKey: "publicZoneId",
                zoneId: aws.publicZoneId,
                private: false,
                nameKey: "receiver-tier:receiver.domain",
                name: domain,
                adoptKey: "publicRecord",
                adoptId: cfg.adopt.publicRecord,
                overwriteKey: "public",
                overwrite: cfg.adopt.overwriteRecords.public,
                own: state.has(RESOURCE_TYPES.record, RESOURCE_NAMES.aliasRecord(RESOURCE_NAMES.receiverFleet(stack))),
            },
            {
                zoneKey: "privateZoneId",
                zoneId: aws.privateZoneId,
                private: true,
                nameKey: "receiver-tier:pgbouncer.dnsName",
                name: cfg.pgbouncer.dnsName,
                adoptKey: "privateRecord",
                adoptId: cfg.adopt.privateRecord,
                overwriteKey: "private",
                overwrite: cfg.adopt.overwriteRecords.private,
                own: state.has(RESOURCE_TYPES.record, RESOURCE_NAMES.aliasRecord(RESOURCE_NAMES.pgbouncerFleet(stack))),
            },
        ];
        return [
            first,
            ...(await network(aws, clients.ec2)),
            ...(await egressChecks(aws, region, clients.ec2)),
            await amiParameterCheck(aws, clients.ssm),
            ...(await artifactCheck(cfg, clients.s3)),
            await certificate(aws, domain, region, clients.acm),
            ...(await Promise.all(records.map((r) => zoneAndRecord(r, aws.vpcId, clients.route53)))).flat(),
        ];
    } catch (err) {
        return [fail(`AWS credentials: ${reason(err)} (configure credentials for the stack's account)`)];
    }
}
