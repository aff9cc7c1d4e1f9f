// Session Manager (AWS Systems Manager): the operators' way onto a host, with no SSH key and no open port.
// The SSM agent on the host opens the channel outward; the operator's `aws ssm start-session` joins it.

/**
 * What the agent calls for Session Manager: the minimal instance permissions of the Systems Manager User
 * Guide ("Create a custom IAM instance profile for Session Manager"), none of them resource-scoped.
 */
export const SESSION_MANAGER_ACTIONS = [
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
] as const;

/** The agent's Debian package in AWS's distribution bucket of the region: Debian's AMI and archive carry none. */
export function ssmAgentPackage(region: string): { readonly url: string; readonly arn: string } {
    const object = `amazon-ssm-${region}/latest/debian_amd64/amazon-ssm-agent.deb`;
    return { url: `s3://${object}`, arn: `arn:aws:s3:::${object}` };
}
