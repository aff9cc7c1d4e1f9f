import { describe, expect, it, vi } from "vitest";
import type { Plan, PlannedResource } from "../../../../offline/describe";
import { diffPlans } from "../../../../offline/diff";
import { diffMarkdown, diffSummary } from "../../../../offline/markdown";
import { pathPattern, REPLACE_ONLY_INPUTS, replacingPaths } from "../../../../offline/replacements";
import { stackRun } from "../mockTier";

const INSTANCE = "aws:ec2/instance:Instance";
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const GROUP = "aws:autoscaling/group:Group";

describe("the replace-only table", () => {
    const host = { userData: "#cloud-config\n", userDataReplaceOnChange: true, subnetId: "subnet-1", instanceType: "t3.small" };

    it("replaces an instance whose user data changed only when userDataReplaceOnChange is set", () => {
        expect(replacingPaths(INSTANCE, host, [], ["userData"])).toEqual(["userData"]);
        expect(replacingPaths(INSTANCE, { ...host, userDataReplaceOnChange: false }, [], ["userData"])).toEqual([]);
    });

    it("replaces on a replace-only input, nested ones included, and updates the rest in place", () => {
        expect(replacingPaths(INSTANCE, host, [], ["subnetId", "instanceType", "tags.Name"])).toEqual(["subnetId"]);
        expect(replacingPaths(INSTANCE, host, [], ["rootBlockDevice.encrypted", "rootBlockDevice.volumeSize"])).toEqual([
            "rootBlockDevice.encrypted",
        ]);
        expect(replacingPaths("aws:lb/targetGroup:TargetGroup", {}, [], ["port", "healthCheck.port", "deregistrationDelay"])).toEqual([
            "port",
        ]);
        expect(replacingPaths("docker:index/container:Container", {}, [], ["envs[0]", "restart"])).toEqual(["envs[0]"]);
    });

    it("replaces a group whose launch lifecycle hook changed, an SSM parameter moved down to Standard, and updates a record's set identifier in place", () => {
        expect(replacingPaths(GROUP, {}, [], ["initialLifecycleHooks[0].heartbeatTimeout", "maxSize"])).toEqual([
            "initialLifecycleHooks[0].heartbeatTimeout",
        ]);
        const parameter = "aws:ssm/parameter:Parameter";
        expect(replacingPaths(parameter, { tier: "Standard" }, [], ["tier", "value"])).toEqual(["tier"]);
        expect(replacingPaths(parameter, { tier: "Advanced" }, [], ["tier", "value"])).toEqual([]);
        expect(replacingPaths("aws:route53/record:Record", {}, [], ["setIdentifier", "type"])).toEqual(["type"]);
    });

    it("respects the replaceOnChanges resource option", () => {
        expect(replacingPaths(INSTANCE, host, ["tags.*"], ["tags.Name", "instanceType"])).toEqual(["tags.Name"]);
        expect(replacingPaths(LAUNCH_TEMPLATE, {}, ["*"], ["userData"])).toEqual(["userData"]);
        expect(replacingPaths(LAUNCH_TEMPLATE, {}, [], ["userData"])).toEqual([]);
    });

    it("reads Pulumi property paths", () => {
        expect(pathPattern("ports[*].internal").test("ports[2].internal")).toBe(true);
        expect(pathPattern("user").test("userData")).toBe(false);
        expect(pathPattern("rootBlockDevice").test("rootBlockDevice.encrypted")).toBe(true);
    });

    it("gets the replaceOnChanges and ignoreChanges options from the mocked engine", async () => {
        vi.resetModules();
        const pulumi = await import("@pulumi/pulumi");
        const { runUnderMocks } = await import("../../../../offline/mockEngine");
        const run = await runUnderMocks("options-test", "test", {}, [], async () => {
            class Thing extends pulumi.CustomResource {
                constructor() {
                    super("test:index:Thing", "thing", { a: 1, b: 2 }, { replaceOnChanges: ["a"], ignoreChanges: ["b"] });
                }
            }
            new Thing();
            return {};
        });
        expect(run.resources.map((r) => [r.name, r.options])).toEqual([["thing", { replaceOnChanges: ["a"], ignoreChanges: ["b"] }]]);
    });

    it("has an entry for every resource type the canary and local programs register", async () => {
        for (const stack of ["canary", "local"] as const) {
            const run = stackRun(stack);
            const types = [...new Set(run.resources.filter((r) => r.custom).map((r) => r.type))];
            expect(
                types.filter((type) => !(type in REPLACE_ONLY_INPUTS)),
                stack,
            ).toEqual([]);
        }
    });
});

const resource = (type: string, name: string, inputs: Record<string, unknown>, extra: Partial<PlannedResource> = {}): PlannedResource => ({
    type,
    name,
    parent: "(stack)",
    inputs,
    ...extra,
});
const plan = (...resources: PlannedResource[]): Plan => ({ stack: "test", resources, outputs: {}, violations: [] });

describe("the plan diff", () => {
    const groups = [
        resource(GROUP, "web-asg", { launchTemplate: { id: "<id of web-lt>", version: "1" } }),
        resource(GROUP, "other-asg", { launchTemplate: { id: "<id of other-lt>", version: "1" } }),
    ];

    it("shows a launch template change as a rolling refresh of the group launching from it", () => {
        const before = plan(resource(LAUNCH_TEMPLATE, "web-lt", { userData: "a" }), ...groups);
        const after = plan(resource(LAUNCH_TEMPLATE, "web-lt", { userData: "b" }), ...groups);
        const diff = diffPlans("main", before, after);
        expect(diff.changed).toEqual([expect.objectContaining({ name: "web-lt", action: "update", rolls: ["web-asg"] })]);
        expect(diffSummary(diff)).toBe("0 to replace, 1 to update, 0 to add, 0 to remove; rolls `web-asg` (instance refresh)");
    });

    it("lists replacements first, with the inputs that force them, in the summary and the markdown", () => {
        const before = plan(
            resource("aws:ssm/parameter:Parameter", "ini", { name: "/a", insecureValue: "x" }),
            resource(INSTANCE, "host-1", { userData: "old", userDataReplaceOnChange: true }),
        );
        const after = plan(
            resource("aws:ssm/parameter:Parameter", "ini", { name: "/a", insecureValue: "y" }),
            resource(INSTANCE, "host-1", { userData: "new", userDataReplaceOnChange: true }),
            resource(INSTANCE, "host-2", { userData: "new" }),
        );
        const diff = diffPlans("main", before, after);
        expect(diff.changed.map((c) => [c.name, c.action, c.replacedBy])).toEqual([
            ["host-1", "replace", ["userData"]],
            ["ini", "update", []],
        ]);
        const markdown = diffMarkdown(diff);
        expect(markdown).toContain("**1 to replace, 1 to update, 1 to add, 0 to remove**");
        expect(markdown.indexOf("#### +- `host-1`")).toBeGreaterThan(0);
        expect(markdown.indexOf("#### +- `host-1`")).toBeLessThan(markdown.indexOf("#### ~ `ini`"));
    });

    it("leaves out inputs under ignoreChanges, as the engine keeps their old value", () => {
        const before = plan(resource(INSTANCE, "host-1", { ami: "ami-1", tags: { a: "1" } }, { ignoreChanges: ["ami"] }));
        const after = plan(resource(INSTANCE, "host-1", { ami: "ami-2", tags: { a: "2" } }, { ignoreChanges: ["ami"] }));
        expect(diffPlans("main", before, after).changed).toEqual([
            expect.objectContaining({ action: "update", changes: [{ path: "tags.a", before: "1", after: "2" }] }),
        ]);
    });
});
