/** Trust policy letting EC2 instances assume a role. */
export function renderEc2AssumeRolePolicy(): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
}

/** Read access to exactly these SSM parameters (and, optionally, one S3 object). */
export function renderInstanceReadPolicy(parameterArns: readonly string[], s3ObjectUrl?: string): string {
    const statements: object[] = [{ Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [...parameterArns] }];
    if (s3ObjectUrl) {
        statements.push({ Effect: "Allow", Action: ["s3:GetObject"], Resource: `arn:aws:s3:::${s3ObjectUrl.replace(/^s3:\/\//, "")}` });
    }
    return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}
