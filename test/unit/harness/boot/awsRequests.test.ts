import { describe, expect, it } from "vitest";
import {
    parseImdsRequest,
    parseParameterSelector,
    parseQueryBody,
    parseS3Request,
    parseSigV4,
    queryList,
    queryMetricData,
} from "../../../../harness/boot/awsRequests";
import { parameterArn } from "../../../../harness/boot/deployment";

describe("what the hosts' aws CLI and curl send", () => {
    it("SigV4: the access key and scope", () => {
        expect(
            parseSigV4("AWS4-HMAC-SHA256 Credential=ASIAX/20261203/us-east-1/ssm/aws4_request, SignedHeaders=host, Signature=ab"),
        ).toEqual({
            accessKeyId: "ASIAX",
            date: "20261203",
            region: "us-east-1",
            service: "ssm",
        });
        expect(parseSigV4(undefined)).toBeUndefined();
    });

    it("SSM: name:version selectors, and the ARN of a name with its leading slash", () => {
        expect(parseParameterSelector("/receiver-tier/canary/receiver/secrets.env:3")).toEqual({
            name: "/receiver-tier/canary/receiver/secrets.env",
            version: 3,
        });
        expect(parseParameterSelector("/a/b")).toEqual({ name: "/a/b" });
        expect(parameterArn("us-east-1", "/a/b")).toBe("arn:aws:ssm:us-east-1:123456789012:parameter/a/b");
    });

    it("query protocol: lists and PutMetricData's data", () => {
        const params = parseQueryBody(
            "Action=PutMetricData&Version=2010-08-01&Namespace=ReceiverTier%2Fcanary&MetricData.member.1.MetricName=ReceiverHealthy&MetricData.member.1.Value=1&MetricData.member.1.Unit=Count" +
                "&MetricData.member.1.Dimensions.member.1.Name=Host&MetricData.member.1.Dimensions.member.1.Value=i-1&MetricData.member.2.MetricName=ReceiverHealthy&MetricData.member.2.Value=0",
        );
        expect(params.get("Namespace")).toBe("ReceiverTier/canary");
        expect(queryMetricData(params)).toEqual([
            { metricName: "ReceiverHealthy", value: 1, unit: "Count", dimensions: { Host: "i-1" } },
            { metricName: "ReceiverHealthy", value: 0, unit: undefined, dimensions: {} },
        ]);
        expect(queryList(parseQueryBody("InstanceIds.member.1=i-1&InstanceIds.member.2=i-2"), "InstanceIds")).toEqual(["i-1", "i-2"]);
    });

    it("S3: virtual-hosted and path style", () => {
        expect(parseS3Request("bucket.s3.amazonaws.com", "/a/b.tar.gz")).toEqual({ bucket: "bucket", key: "a/b.tar.gz" });
        expect(parseS3Request("bucket.s3.us-east-1.amazonaws.com", "/k")).toEqual({ bucket: "bucket", key: "k" });
        expect(parseS3Request("s3.us-east-1.amazonaws.com", "/bucket/k?x=1")).toEqual({ bucket: "bucket", key: "k" });
    });

    it("IMDSv2: the token is a PUT; metadata items", () => {
        expect(parseImdsRequest("PUT", "/latest/api/token")).toEqual({ kind: "token" });
        expect(parseImdsRequest("GET", "/latest/api/token")).toEqual({ kind: "unknown" });
        expect(parseImdsRequest("GET", "/latest/meta-data/iam/security-credentials/")).toEqual({
            kind: "meta-data",
            item: "iam/security-credentials/",
        });
        expect(parseImdsRequest("GET", "/latest/dynamic/instance-identity/document")).toEqual({ kind: "identity-document" });
    });
});
