// Inputs an update cannot change in place: the cloud provider deletes and recreates the resource
// (`pulumi preview` shows `+-`). One entry per resource type the program registers, from the
// providers' sources (Terraform ForceNew / RequiresReplace, which pulumi-aws and pulumi-tls bridge, checked
// in hashicorp/terraform-provider-aws and terraform-provider-tls; pulumi-postgresql and pulumi-docker
// likewise; our dynamic provider's own diff). A type with an empty list replaces on no input this stack
// sets; a test keeps the table complete.

/** An input (dotted path, `*` for every input) whose change forces replacement, optionally only under a condition. */
export interface ReplaceOnlyInput {
    readonly path: string;
    /** Inputs that are updated in place although `path` is `*`. */
    readonly except?: readonly string[];
    /** The replacement happens only when this holds for the new inputs. */
    readonly when?: (inputs: Record<string, unknown>) => boolean;
}

const always = (...paths: string[]): ReplaceOnlyInput[] => paths.map((path) => ({ path }));
const userDataReplaces = (inputs: Record<string, unknown>) => inputs.userDataReplaceOnChange === true;

export const REPLACE_ONLY_INPUTS: Readonly<Record<string, readonly ReplaceOnlyInput[]>> = {
    "aws:ec2/instance:Instance": [
        ...always(
            "ami",
            "availabilityZone",
            "subnetId",
            "privateIp",
            "keyName",
            "tenancy",
            "placementGroup",
            "hostId",
            "associatePublicIpAddress",
            "ipv6Addresses",
            "ipv6AddressCount",
            "networkInterfaces",
            "securityGroups",
            "ebsBlockDevices",
            "ephemeralBlockDevices",
            "cpuOptions",
            "launchTemplate",
            "rootBlockDevice.encrypted",
            "rootBlockDevice.kmsKeyId",
        ),
        // Without userDataReplaceOnChange a user data change stops and starts the instance instead.
        { path: "userData", when: userDataReplaces },
        { path: "userDataBase64", when: userDataReplaces },
    ],
    // Every other change makes a new template version; see "rolls" in diff.ts.
    "aws:ec2/launchTemplate:LaunchTemplate": always("name", "namePrefix"),
    // A changed initial launch lifecycle hook makes a new group (rollingGroup.ts ignores it after creation).
    "aws:autoscaling/group:Group": always("name", "namePrefix", "initialLifecycleHooks"),
    // Create and update are both PutLifecycleHook: only a new name makes a new hook.
    "aws:autoscaling/lifecycleHook:LifecycleHook": always("name"),
    "aws:sns/topic:Topic": always("name", "namePrefix", "fifoTopic"),
    "aws:sns/topicSubscription:TopicSubscription": always("topic", "protocol", "endpoint"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": always("name"),
    "aws:cloudwatch/dashboard:Dashboard": always("dashboardName"),
    // The TLS provider makes keys and certificates locally: any input change makes new ones. A certificate
    // inside its early-renewal window is re-issued at the next up whatever changed (not shown here).
    "tls:index/privateKey:PrivateKey": [{ path: "*" }],
    "tls:index/certRequest:CertRequest": [{ path: "*" }],
    "tls:index/selfSignedCert:SelfSignedCert": [{ path: "*", except: ["earlyRenewalHours"] }],
    "tls:index/locallySignedCert:LocallySignedCert": [{ path: "*", except: ["earlyRenewalHours"] }],
    "aws:ec2/securityGroup:SecurityGroup": always("name", "namePrefix", "description", "vpcId"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": always("securityGroupId"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": always("securityGroupId"),
    "aws:iam/role:Role": always("name", "namePrefix", "path"),
    "aws:iam/rolePolicy:RolePolicy": always("name", "namePrefix", "role"),
    "aws:iam/instanceProfile:InstanceProfile": always("name", "namePrefix", "path"),
    "aws:lb/loadBalancer:LoadBalancer": [
        ...always("name", "namePrefix", "internal", "loadBalancerType", "customerOwnedIpv4Pool"),
        // A network load balancer cannot drop subnets in place.
        { path: "subnets", when: (inputs) => inputs.loadBalancerType === "network" },
    ],
    "aws:lb/targetGroup:TargetGroup": always(
        "name",
        "namePrefix",
        "port",
        "protocol",
        "protocolVersion",
        "vpcId",
        "targetType",
        "ipAddressType",
    ),
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": always("targetGroupArn", "targetId", "port", "availabilityZone"),
    "aws:lb/listener:Listener": always("loadBalancerArn"),
    // `type` forced replacement in Terraform AWS provider 6.x until hashicorp/terraform-provider-aws#47105;
    // which upstream release the pinned pulumi-aws bridges is not established, so it stays. A changed
    // `setIdentifier` is a delete and create in one change batch, which the provider counts as an update.
    "aws:route53/record:Record": always("name", "zoneId", "type"),
    "aws:ssm/parameter:Parameter": [
        ...always("name", "dataType"),
        // Advanced to Standard (pgbouncerFleet.ts picks the tier by size, never Intelligent-Tiering).
        { path: "tier", when: (inputs) => inputs.tier === "Standard" },
    ],
    // Renaming a role or schema is an ALTER ... RENAME in place; a grant has no update at all.
    "postgresql:index/role:Role": [],
    "postgresql:index/schema:Schema": always("database"),
    "postgresql:index/grant:Grant": always("*"),
    // A provider's own inputs replace nothing by themselves; the engine asks it per resource.
    "pulumi:providers:postgresql": [],
    // components/postgres/databaseSetting.ts: diff() replaces on database or name.
    "pulumi-nodejs:dynamic/receiver-tier:DatabaseSetting": always("database", "name"),
    // Its diff never replaces: a change runs the (idempotent) statements again, the table and its rows stay.
    "pulumi-nodejs:dynamic/receiver-tier:EventsTable": [],
    // A container cannot be reconfigured: only its restart policy and resource limits update in place.
    "docker:index/container:Container": [{ path: "*", except: ["restart", "maxRetryCount", "cpuShares", "memory", "memorySwap"] }],
    "docker:index/network:Network": always("*"),
    "docker:index/remoteImage:RemoteImage": always("name", "platform", "pullTriggers"),
    "docker:index/image:Image": always("imageName"),
};

/** A property path as Pulumi writes it in replaceOnChanges/ignoreChanges (`a.b`, `a[*].b`, `*`), as a matcher of input paths. */
export function pathPattern(path: string): RegExp {
    if (path === "*") return /^/;
    const escaped = path
        .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
        .replace(/\\\[\\\*\\\]/g, "\\[\\d+\\]")
        .replace(/\\\.\\\*/g, "\\.[^.[]+");
    return new RegExp(`^${escaped}($|[.[])`);
}

const matches = (inputPath: string, path: string) => pathPattern(path).test(inputPath);

/**
 * The changed input paths that make the engine replace a resource: the table's for its type, and
 * those its `replaceOnChanges` option names.
 */
export function replacingPaths(
    type: string,
    inputs: Record<string, unknown>,
    replaceOnChanges: readonly string[],
    changedPaths: readonly string[],
): string[] {
    const table = (REPLACE_ONLY_INPUTS[type] ?? []).filter((input) => input.when?.(inputs) ?? true);
    return changedPaths.filter(
        (changed) =>
            replaceOnChanges.some((path) => matches(changed, path)) ||
            table.some((input) => matches(changed, input.path) && !(input.except ?? []).some((kept) => matches(changed, kept))),
    );
}
