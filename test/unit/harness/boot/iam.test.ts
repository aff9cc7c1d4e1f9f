import { describe, expect, it } from "vitest";
import { renderInstancePolicy } from "../../../../components/render/iamPolicies";
import { parameterArn } from "../../../../harness/boot/deployment";
import { evaluatePolicy, PolicyDocument, wildcardMatch } from "../../../../harness/boot/iam";

// The stand-in AWS refuses what the instance policy does not allow: evaluated on the policy the
// program renders, so an over-narrow or wrong policy fails a boot.

const region = "us-east-1";
const ini = parameterArn(region, "/receiver-tier/canary/pgbouncer/pgbouncer.ini");
const policy = JSON.parse(
    renderInstancePolicy([ini], "canary-pgbouncer", "ReceiverTier/canary", region, "s3://bucket/app.tar.gz"),
) as PolicyDocument;

describe("evaluatePolicy on the rendered instance policy", () => {
    it("allows exactly the granted parameter, by ARN", () => {
        expect(evaluatePolicy(policy, { action: "ssm:GetParameter", resource: ini, context: {} }).allowed).toBe(true);
        expect(
            evaluatePolicy(policy, {
                action: "ssm:GetParameter",
                resource: parameterArn(region, "/receiver-tier/prod/pgbouncer/pgbouncer.ini"),
                context: {},
            }).allowed,
        ).toBe(false);
        expect(evaluatePolicy(policy, { action: "ssm:GetParameters", resource: ini, context: {} }).allowed).toBe(false);
    });

    it("scopes CompleteLifecycleAction to the fleet's tag and PutMetricData to the namespace", () => {
        const group = "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x:autoScalingGroupName/g";
        const complete = (tag: string) =>
            evaluatePolicy(policy, {
                action: "autoscaling:CompleteLifecycleAction",
                resource: group,
                context: { "autoscaling:ResourceTag/receiver-tier-fleet": tag },
            });
        expect(complete("canary-pgbouncer").allowed).toBe(true);
        expect(complete("canary-receivers").allowed).toBe(false);
        const put = (namespace: string) =>
            evaluatePolicy(policy, { action: "cloudwatch:PutMetricData", resource: "*", context: { "cloudwatch:namespace": namespace } });
        expect(put("ReceiverTier/canary").allowed).toBe(true);
        expect(put("ReceiverTier/prod").allowed).toBe(false);
        expect(evaluatePolicy(policy, { action: "cloudwatch:PutMetricData", resource: "*", context: {} }).allowed).toBe(false);
    });

    it("matches the S3 object and nothing else; actions case-insensitively", () => {
        expect(evaluatePolicy(policy, { action: "s3:getobject", resource: "arn:aws:s3:::bucket/app.tar.gz", context: {} }).allowed).toBe(
            true,
        );
        expect(evaluatePolicy(policy, { action: "s3:GetObject", resource: "arn:aws:s3:::bucket/other.tar.gz", context: {} }).allowed).toBe(
            false,
        );
    });

    it("allows Session Manager's agent to register and open its channels, and to fetch its own region's package only", () => {
        for (const action of [
            "ssm:UpdateInstanceInformation",
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
        ]) {
            expect(evaluatePolicy(policy, { action, resource: "*", context: {} }).allowed, action).toBe(true);
        }
        const get = (object: string) => evaluatePolicy(policy, { action: "s3:GetObject", resource: `arn:aws:s3:::${object}`, context: {} });
        expect(get("amazon-ssm-us-east-1/latest/debian_amd64/amazon-ssm-agent.deb").allowed).toBe(true);
        expect(get("amazon-ssm-eu-west-1/latest/debian_amd64/amazon-ssm-agent.deb").allowed).toBe(false);
        expect(get("amazon-ssm-us-east-1/latest/linux_amd64/amazon-ssm-agent.rpm").allowed).toBe(false);
        // The agent's statement grants no parameter beyond the instance's own.
        expect(evaluatePolicy(policy, { action: "ssm:GetParameter", resource: "*", context: {} }).allowed).toBe(false);
        expect(evaluatePolicy(policy, { action: "ssm:SendCommand", resource: "*", context: {} }).allowed).toBe(false);
    });

    it("lets an explicit Deny win and fails closed on unknown condition operators", () => {
        const deny: PolicyDocument = {
            Statement: [
                { Effect: "Allow", Action: "ssm:*", Resource: "*" },
                { Effect: "Deny", Action: "ssm:GetParameter", Resource: ini },
            ],
        };
        expect(evaluatePolicy(deny, { action: "ssm:GetParameter", resource: ini, context: {} }).allowed).toBe(false);
        const odd: PolicyDocument = {
            Statement: [{ Effect: "Allow", Action: "ssm:GetParameter", Resource: "*", Condition: { NumericLessThan: { "aws:x": "1" } } }],
        };
        expect(evaluatePolicy(odd, { action: "ssm:GetParameter", resource: ini, context: { "aws:x": "0" } }).allowed).toBe(false);
    });

    it("wildcards: * any run, ? one character", () => {
        expect(wildcardMatch("arn:aws:ssm:*:*:parameter/receiver-tier/*", ini)).toBe(true);
        expect(wildcardMatch("arn:aws:ssm:us-east-?:*:parameter/x", "arn:aws:ssm:us-east-1:1:parameter/x")).toBe(true);
        expect(wildcardMatch("arn:aws:ssm:us-east-?:*:parameter/x", "arn:aws:ssm:us-east-12:1:parameter/x")).toBe(false);
    });
});
