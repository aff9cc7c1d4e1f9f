// What the boot harness takes from one run of the program: per fleet the launch template's user data
// and the instance policy the program attaches, every SSM parameter, and the stack's outputs.

/** The account id the stand-in AWS answers for (no real account: a documentation value). */
export const BOOT_ACCOUNT = "123456789012";

export interface FleetDeployment {
    /** The fleet tag value (receiver-tier-fleet) of the group, e.g. canary-pgbouncer. */
    readonly fleet: string;
    readonly groupName: string;
    readonly groupTags: Readonly<Record<string, string>>;
    readonly lifecycleHooks: readonly string[];
    /** The launch template's userData input: base64 of the gzip, exactly as EC2 receives it. */
    readonly userDataBase64: string;
    /** The instance role's policy document (JSON text), as the program attaches it. */
    readonly instancePolicy: string;
}

export interface DeployedParameter {
    readonly name: string;
    readonly type: "String" | "SecureString";
    readonly value: string;
}

export interface Deployment {
    readonly stack: string;
    readonly region: string;
    readonly account: string;
    readonly fleets: readonly FleetDeployment[];
    readonly parameters: readonly DeployedParameter[];
    readonly outputs: Record<string, unknown>;
}

/** What the child process gets on stdin. */
export interface DeploymentRequest {
    readonly stack: string;
    readonly region: string;
    /** Engine config (objects as JSON text), secrets included. */
    readonly config: Record<string, string>;
    readonly secretKeys: string[];
    /** Version the mocked cloud reports per parameter name (default 1): a rotation's new launch template. */
    readonly parameterVersions: Readonly<Record<string, number>>;
}

/** The ARN AWS gives a parameter: a name's leading slash is not doubled. */
export function parameterArn(region: string, name: string, account = BOOT_ACCOUNT): string {
    return `arn:aws:ssm:${region}:${account}:parameter/${name.replace(/^\//, "")}`;
}

export function groupArn(region: string, name: string, account = BOOT_ACCOUNT): string {
    return `arn:aws:autoscaling:${region}:${account}:autoScalingGroup:00000000-0000-4000-8000-000000000000:autoScalingGroupName/${name}`;
}
