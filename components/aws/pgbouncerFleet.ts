import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { MetricTargets } from "./metricTargets";
import { AwsSettings, PgbouncerSection } from "../schema/schema";
import { PgbouncerHostFiles } from "../render/cloudInit";
import { hostPort } from "../model/endpoints";
import { ParameterNames } from "../model/parameterNames";
import { NLB_HEALTH_CHECK, PGBOUNCER_HEALTH_PORT } from "../model/rollout";
import { oneExtraInstancePercentage } from "../model/rollout";
import { aliasRecord, RecordAdoption } from "./aliasRecord";
import { InstanceRole } from "./instanceRole";
import { PgbouncerTls } from "./pgbouncerTls";
import { RollingGroup } from "./rollingGroup";
import { COMPONENT_TYPES, RESOURCE_NAMES } from "../model/resources";

export interface PgbouncerFleetArgs {
    /** Hosts in service and their instance type, PgBouncer's port (the NLB's too), the private name receivers use. */
    readonly pgbouncer: Pick<PgbouncerSection, "hosts" | "instanceType" | "port" | "dnsName">;
    /** Where the hosts run: the VPC, its private subnets and zone, the AMI's SSM parameter. */
    readonly network: Pick<AwsSettings, "vpcId" | "privateSubnetIds" | "privateZoneId" | "amiSsmParameter">;
    /** Whether the private DNS record is taken over (adopt.privateRecord, adopt.overwriteRecords.private). */
    readonly recordAdoption: RecordAdoption;
    /** The only CloudWatch namespace the hosts may publish metrics to. */
    readonly metricsNamespace: string;
    /** AWS region of the stack (the instance role names its Session Manager agent package). */
    readonly region: string;
    /** SSM parameter names of this stack. */
    readonly parameters: ParameterNames;
    /** Rendered user data of a host: packages, scripts and units, which files it fetches from Parameter Store; no secret, no setting value. */
    readonly userData: string;
    /** Rendered pgbouncer.ini (not secret). */
    readonly pgbouncerIni: string;
    /** The rendered monitor, metrics and logrotate files a host applies from Parameter Store (not secret). */
    readonly hostFiles: PgbouncerHostFiles;
    /** The CA bundle PostgreSQL's certificate chains to (postgres.caBundle), when set. */
    readonly postgresCa?: string;
    /** Rendered userlist.txt (secret). */
    readonly userlist: pulumi.Output<string>;
    /** Rendered pgbouncer-health.env (secret): the health check's login through the host's PgBouncer. */
    readonly healthEnv: pulumi.Output<string>;
    /** The monitor role's password (secret), read by the long-running-query check. */
    readonly monitorPassword: pulumi.Output<string>;
    /** PgBouncer's certificate, key and CA, when it serves TLS to receivers. */
    readonly tls?: PgbouncerTls;
    /** Security group of the hosts. */
    readonly hostSecurityGroup: aws.ec2.SecurityGroup;
    /** Security group of the internal NLB. */
    readonly nlbSecurityGroup: aws.ec2.SecurityGroup;
}

/** Bytes a standard-tier SSM parameter holds. */
const STANDARD_PARAMETER_BYTES = 4096;

/** Seconds a PgBouncer host takes from launch to serving: packages, the first config apply, the readiness check. */
const HOST_WARMUP_SECONDS = 300;

/**
 * PgBouncer hosts in an auto scaling group behind an internal NLB with a private DNS name. Config
 * lives in SSM Parameter Store; each host applies changes by reload on its own staggered poll, so
 * setting changes never replace a host. Host code changes roll the group one host at a time, each
 * replacement in service only after a login through its PgBouncer reached PostgreSQL.
 */
export class PgbouncerFleet extends pulumi.ComponentResource {
    /** The PgBouncer endpoint receivers use (the NLB's private DNS name); hosts come and go behind it. */
    public readonly poolEndpoints: pulumi.Output<string[]>;
    /** The auto scaling group of the hosts. */
    public readonly groupName: pulumi.Output<string>;
    /** The NLB and its target group, for the alarms and the dashboard. */
    public readonly metricTargets: MetricTargets;

    constructor(
        private readonly name: string,
        args: PgbouncerFleetArgs,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super(COMPONENT_TYPES.pgbouncerFleet, name, {}, opts);
        const parameters = this.configParameters(args);
        const role = new InstanceRole(
            `${name}-instance`,
            { parameterArns: parameters.map((p) => p.arn), fleet: name, metricsNamespace: args.metricsNamespace, region: args.region },
            { parent: this },
        );
        const { nlb, targetGroup } = this.loadBalancer(args);
        const hosts = this.hosts(args, role, targetGroup, parameters);
        aliasRecord(
            RESOURCE_NAMES.aliasRecord(name),
            {
                zoneId: args.network.privateZoneId,
                name: args.pgbouncer.dnsName,
                loadBalancer: nlb,
                adoption: args.recordAdoption,
                group: hosts.group,
            },
            this,
        );

        this.poolEndpoints = pulumi.output([hostPort(args.pgbouncer.dnsName, args.pgbouncer.port)]);
        this.groupName = hosts.group.name;
        this.metricTargets = { loadBalancer: nlb.arnSuffix, targetGroup: targetGroup.arnSuffix };
        this.registerOutputs({ poolEndpoints: this.poolEndpoints, groupName: this.groupName, metricTargets: this.metricTargets });
    }

    /** Everything that follows from config; each host polls it (receiver-tier-config.timer). */
    private configParameters(args: PgbouncerFleetArgs): aws.ssm.Parameter[] {
        const child = { parent: this };
        // insecureValue keeps the non-secret files readable in preview diffs.
        const plain = (suffix: string, parameterName: string, value: pulumi.Input<string>) =>
            new aws.ssm.Parameter(`${this.name}-${suffix}`, { name: parameterName, type: "String", insecureValue: value }, child);
        const secret = (suffix: string, parameterName: string, value: pulumi.Output<string>) =>
            new aws.ssm.Parameter(
                `${this.name}-${suffix}`,
                { name: parameterName, type: "SecureString", value: pulumi.secret(value) },
                child,
            );
        const names = args.parameters;
        const files = args.hostFiles;
        const caBundle = args.postgresCa;
        // A regional CA bundle can exceed the 4 KiB of a standard parameter (the caBundle rule caps it at 8 KiB).
        const postgresCa =
            caBundle === undefined
                ? []
                : [
                      new aws.ssm.Parameter(
                          `${this.name}-postgres-ca`,
                          {
                              name: names.postgresCa,
                              type: "String",
                              tier: Buffer.byteLength(caBundle) > STANDARD_PARAMETER_BYTES ? "Advanced" : "Standard",
                              insecureValue: caBundle,
                          },
                          child,
                      ),
                  ];
        const tls = args.tls
            ? [
                  plain("tls-cert", names.pgbouncerTlsCert, args.tls.certPem),
                  secret("tls-key", names.pgbouncerTlsKey, args.tls.privateKeyPem),
                  plain("tls-ca", names.pgbouncerTlsCa, args.tls.caCertPem),
              ]
            : [];
        return [
            ...postgresCa,
            ...tls,
            plain("ini", names.pgbouncerIni, args.pgbouncerIni),
            secret("userlist", names.userlist, args.userlist),
            secret("health-env", names.pgbouncerHealthEnv, args.healthEnv),
            secret("monitor-password", names.monitorPassword, args.monitorPassword),
            plain("monitor-env", names.monitorEnv, files.monitorEnv),
            plain("monitor-sql", names.monitorSql, files.monitorSql),
            plain("monitor-timer", names.monitorTimer, files.monitorTimer),
            plain("metrics-env", names.metricsEnv, files.metricsEnv),
            plain("logrotate", names.pgbouncerLogrotate, files.logrotate),
        ];
    }

    /** The internal NLB: it sends clients only to hosts whose PgBouncer can log in to PostgreSQL. */
    private loadBalancer(args: PgbouncerFleetArgs) {
        const child = { parent: this };
        const nlb = new aws.lb.LoadBalancer(
            `${this.name}-nlb`,
            {
                internal: true,
                loadBalancerType: "network",
                subnets: args.network.privateSubnetIds,
                securityGroups: [args.nlbSecurityGroup.id],
                enableCrossZoneLoadBalancing: true,
            },
            child,
        );
        const targetGroup = new aws.lb.TargetGroup(
            `${this.name}-tg`,
            {
                vpcId: args.network.vpcId,
                port: args.pgbouncer.port,
                protocol: "TCP",
                targetType: "instance",
                // Let connected clients finish their transactions when a host is taken out.
                deregistrationDelay: 60,
                // More than the open port: the host's own check logs in through its PgBouncer. When
                // every host fails (a PostgreSQL outage) the NLB fails open; the group replaces nothing.
                healthCheck: {
                    protocol: "HTTP",
                    port: String(PGBOUNCER_HEALTH_PORT),
                    path: "/",
                    matcher: "200",
                    ...NLB_HEALTH_CHECK,
                },
            },
            child,
        );
        new aws.lb.Listener(
            `${this.name}-listener`,
            {
                loadBalancerArn: nlb.arn,
                port: args.pgbouncer.port,
                protocol: "TCP",
                defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
            },
            child,
        );
        return { nlb, targetGroup };
    }

    /** The hosts, rolled one at a time; the first ones boot only once their parameters and role exist. */
    private hosts(args: PgbouncerFleetArgs, role: InstanceRole, targetGroup: aws.lb.TargetGroup, parameters: aws.ssm.Parameter[]) {
        const child = { parent: this };
        return new RollingGroup(
            `${this.name}-hosts`,
            {
                subnetIds: args.network.privateSubnetIds,
                desired: args.pgbouncer.hosts,
                maxHealthyPercentage: oneExtraInstancePercentage(args.pgbouncer.hosts),
                imageId: aws.ssm.getParameterOutput({ name: args.network.amiSsmParameter }, child).value,
                instanceType: args.pgbouncer.instanceType,
                instanceProfileArn: role.profile.arn,
                securityGroupId: args.hostSecurityGroup.id,
                userData: args.userData,
                targetGroupArns: [targetGroup.arn],
                warmupSeconds: HOST_WARMUP_SECONDS,
                fleet: this.name,
                bootDependsOn: [...parameters, role.readPolicy],
            },
            child,
        );
    }
}
