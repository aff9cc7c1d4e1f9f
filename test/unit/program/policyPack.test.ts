import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import * as policyProxy from "@pulumi/policy/proxy";
import { describe, expect, it, vi } from "vitest";
import { policies } from "../../../policy/policies";
import { TYPES } from "../../../policy/rules";

// Stands in for the engine: only what validateResource reads.
function validate(policy: ResourceValidationPolicy, type: string, props: Record<string, unknown>, config: object = {}): string[] {
    const violations: string[] = [];
    const args = { type, props, getConfig: () => config } as unknown as ResourceValidationArgs;
    const validations = [policy.validateResource ?? []].flat();
    validations.forEach((validation) => validation(args, (message) => violations.push(message)));
    return violations;
}

// The engine hands props to policies wrapped in this proxy; its typings are internal, so they are declared here.
const { unknownCheckingProxy, unknownStringValue, UnknownValueError } = policyProxy as unknown as {
    unknownCheckingProxy: <T extends object>(props: T) => T;
    unknownStringValue: string;
    UnknownValueError: new (...args: unknown[]) => Error;
};

const byName = (name: string) => {
    const found = policies.find((p) => p.name === name);
    if (!found) throw new Error(`no policy ${name}`);
    return found;
};

// One violating resource per policy: proves each policy is wired to its rule.
const VIOLATIONS: Record<string, [string, Record<string, unknown>]> = {
    "no-world-open-database-ingress": [
        TYPES.securityGroup,
        { ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["10.0.0.0/8", "0.0.0.0/0"] }] },
    ],
    "imdsv2-required": [TYPES.instance, { metadataOptions: { httpTokens: "optional" } }],
    "encrypted-volumes": [TYPES.launchTemplate, { blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "false" } }] }],
    "no-plaintext-secrets-in-user-data": [TYPES.instance, { userData: "PASSWORD=hunter2" }],
    "receiver-statement-timeout-capped": [TYPES.postgresRole, { name: "webhook_receiver_a", statementTimeout: 60000 }],
    "pgbouncer-transaction-pooling": [
        TYPES.dockerContainer,
        { uploads: [{ file: "/etc/pgbouncer/pgbouncer.ini", content: "[pgbouncer]\npool_mode = session\n" }] },
    ],
};

describe("policy list", () => {
    it("has six uniquely named, described, mandatory policies", () => {
        expect(policies).toHaveLength(6);
        expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
        for (const policy of policies) {
            expect(policy.name).toMatch(/^[a-z0-9-]+$/);
            expect(policy.description.length).toBeGreaterThan(20);
            expect(policy.enforcementLevel).toBe("mandatory");
        }
    });

    it.each(Object.entries(VIOLATIONS))("%s reports its violation through the engine callback", (name, [type, props]) => {
        expect(validate(byName(name), type, props)).not.toEqual([]);
    });

    it.each(Object.entries(VIOLATIONS))("%s reads props the way the engine wraps them", (name, [type, props]) => {
        expect(validate(byName(name), type, unknownCheckingProxy(props))).toEqual(validate(byName(name), type, props));
    });

    it("lets a value unknown during preview surface as the engine's UnknownValueError, not as a pass", () => {
        const props = unknownCheckingProxy({ userData: unknownStringValue });
        expect(() => validate(byName("no-plaintext-secrets-in-user-data"), TYPES.instance, props)).toThrow(UnknownValueError);
    });

    it("ignores resources none of the rules cover", () => {
        for (const policy of policies) {
            expect(validate(policy, "aws:s3/bucket:Bucket", { bucket: "b" })).toEqual([]);
        }
    });

    it("declares config defaults that match the rules' own defaults", () => {
        const schema = byName("receiver-statement-timeout-capped").configSchema?.properties;
        expect(schema?.receiverRoleName).toMatchObject({ type: "string", default: "webhook_receiver" });
        expect(schema?.maxStatementTimeoutMs).toMatchObject({ type: "integer", default: 5000 });
        expect(byName("no-world-open-database-ingress").configSchema?.properties.databasePorts).toMatchObject({ default: [5432, 6432] });
    });

    it("applies --policy-pack-config values over the defaults", () => {
        const timeoutPolicy = byName("receiver-statement-timeout-capped");
        const role = { name: "webhook_receiver_a", statementTimeout: 8000 };
        expect(validate(timeoutPolicy, TYPES.postgresRole, role)).toHaveLength(1);
        expect(validate(timeoutPolicy, TYPES.postgresRole, role, { maxStatementTimeoutMs: 10000 })).toEqual([]);
    });
});

describe("policy/index.ts", () => {
    it("serves exactly this list as a mandatory pack", async () => {
        const constructed: unknown[][] = [];
        vi.doMock("@pulumi/policy", () => ({
            // Records the constructor call instead of starting the engine's gRPC server.
            PolicyPack: function PolicyPack(...args: unknown[]) {
                constructed.push(args);
            },
        }));
        await import("../../../policy/index");
        expect(constructed).toEqual([["receiver-tier", expect.objectContaining({ enforcementLevel: "mandatory", policies })]]);
    });
});
