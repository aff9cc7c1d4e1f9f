import { describe, expect, it } from "vitest";
import { noWorldOpenDatabaseIngress, TYPES } from "../../../policy/rules";

const ingressRule = (props: Record<string, unknown>) => noWorldOpenDatabaseIngress(TYPES.securityGroupIngressRule, props);
const legacyRule = (props: Record<string, unknown>) => noWorldOpenDatabaseIngress(TYPES.securityGroupRule, { type: "ingress", ...props });
const inlineGroup = (...ingress: Record<string, unknown>[]) => noWorldOpenDatabaseIngress(TYPES.securityGroup, { ingress });

describe("no-world-open-database-ingress: SecurityGroupIngressRule", () => {
    it("passes PgBouncer's port opened to a private CIDR", () => {
        expect(ingressRule({ ipProtocol: "tcp", fromPort: 6432, toPort: 6432, cidrIpv4: "10.0.0.0/16" })).toEqual([]);
    });

    it("passes HTTPS opened to the world", () => {
        expect(ingressRule({ ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" })).toEqual([]);
    });

    it("fails PostgreSQL's port opened to 0.0.0.0/0", () => {
        expect(ingressRule({ ipProtocol: "tcp", fromPort: 5432, toPort: 5432, cidrIpv4: "0.0.0.0/0" })).toEqual([
            expect.stringContaining("0.0.0.0/0 reach database port 5432"),
        ]);
    });

    it("fails PgBouncer's port opened to ::/0", () => {
        expect(ingressRule({ ipProtocol: "tcp", fromPort: 6432, toPort: 6432, cidrIpv6: "::/0" })).toEqual([
            expect.stringContaining("::/0 reach database port 6432"),
        ]);
    });

    it("fails a port range that contains both database ports", () => {
        const violations = ingressRule({ ipProtocol: "tcp", fromPort: 5000, toPort: 7000, cidrIpv4: "0.0.0.0/0" });
        expect(violations).toHaveLength(2);
        expect(violations.join("\n")).toMatch(/port 5432[\s\S]*port 6432/);
    });

    it("passes a world-open range that stops short of the database ports", () => {
        expect(ingressRule({ ipProtocol: "tcp", fromPort: 8000, toPort: 9000, cidrIpv4: "0.0.0.0/0" })).toEqual([]);
    });

    it("fails protocol -1, which opens every port whatever fromPort/toPort say", () => {
        expect(ingressRule({ ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" })).toHaveLength(2);
    });

    it("passes UDP on the database port (PostgreSQL and PgBouncer speak TCP only)", () => {
        expect(ingressRule({ ipProtocol: "udp", fromPort: 5432, toPort: 5432, cidrIpv4: "0.0.0.0/0" })).toEqual([]);
    });

    it("checks the ports given in policy config instead of the defaults", () => {
        const props = { ipProtocol: "tcp", fromPort: 15432, toPort: 15432, cidrIpv4: "0.0.0.0/0" };
        expect(noWorldOpenDatabaseIngress(TYPES.securityGroupIngressRule, props, { databasePorts: [15432] })).toHaveLength(1);
    });
});

describe("no-world-open-database-ingress: SecurityGroupRule", () => {
    it("passes an egress rule to everywhere", () => {
        expect(
            noWorldOpenDatabaseIngress(TYPES.securityGroupRule, {
                type: "egress",
                protocol: "-1",
                fromPort: 0,
                toPort: 0,
                cidrBlocks: ["0.0.0.0/0"],
            }),
        ).toEqual([]);
    });

    it("passes an ingress rule from a security group", () => {
        expect(legacyRule({ protocol: "tcp", fromPort: 5432, toPort: 5432, sourceSecurityGroupId: "sg-0123" })).toEqual([]);
    });

    it("fails when any of several CIDR blocks is the world", () => {
        expect(legacyRule({ protocol: "tcp", fromPort: 6432, toPort: 6432, cidrBlocks: ["10.0.0.0/8", "0.0.0.0/0"] })).toHaveLength(1);
    });

    it("fails ::/0 in ipv6CidrBlocks with protocol -1", () => {
        expect(legacyRule({ protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] })).toHaveLength(2);
    });
});

describe("no-world-open-database-ingress: inline SecurityGroup ingress", () => {
    it("passes a group whose world-open rule is HTTPS only", () => {
        expect(
            inlineGroup(
                { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
                { protocol: "tcp", fromPort: 6432, toPort: 6432, cidrBlocks: ["10.0.0.0/16"] },
            ),
        ).toEqual([]);
    });

    it("fails the offending entry and names its index", () => {
        expect(
            inlineGroup(
                { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
                { protocol: "tcp", fromPort: 0, toPort: 65535, cidrBlocks: ["0.0.0.0/0"] },
            ),
        ).toEqual([expect.stringMatching(/^ingress\[1\].*5432/), expect.stringMatching(/^ingress\[1\].*6432/)]);
    });

    it("passes a group without inline ingress", () => {
        expect(noWorldOpenDatabaseIngress(TYPES.securityGroup, { vpcId: "vpc-1" })).toEqual([]);
    });
});
