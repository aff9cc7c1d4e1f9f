import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { describeUrn } from "../../../../offline/describe";
import { runUnderMocks } from "../../../../offline/mockEngine";

describe("parents as the SDK registers them", () => {
    it("names a parent URN by its own type (the last of the chain) and name", () => {
        expect(
            describeUrn(
                "urn:pulumi:canary::receiver-tier::receiver-tier:aws:PgbouncerFleet$receiver-tier:aws:RollingGroup::canary-pgbouncer-hosts",
            ),
        ).toBe("receiver-tier:aws:RollingGroup canary-pgbouncer-hosts");
        expect(describeUrn("urn:pulumi:canary::receiver-tier::receiver-tier:aws:Monitoring::canary-monitoring")).toBe(
            "receiver-tier:aws:Monitoring canary-monitoring",
        );
    });

    it("calls no parent and the root stack resource (stack)", () => {
        expect(describeUrn("")).toBe("(stack)");
        expect(describeUrn("urn:pulumi:canary::receiver-tier::pulumi:pulumi:Stack::receiver-tier-canary")).toBe("(stack)");
    });

    it("records the parent URN each register request carries", async () => {
        const run = await runUnderMocks("receiver-tier", "test", {}, [], async () => {
            class Box extends pulumi.ComponentResource {
                constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
                    super("test:index:Box", name, {}, opts);
                }
            }
            const outer = new Box("outer");
            new Box("outer-inner", { parent: outer });
            new Box("loose");
            return {};
        });
        expect(Object.fromEntries(run.resources.map((r) => [r.name, describeUrn(r.parentUrn)]))).toEqual({
            outer: "(stack)",
            "outer-inner": "test:index:Box outer",
            loose: "(stack)",
        });
    });
});
