import * as aws from "@pulumi/aws";
import { describe, expect, it } from "vitest";
import { runUnderMocks, UnknownInvokeError } from "../../../../offline/mockEngine";

// The engine `npm run plan` and the program tests (test/unit/program/mockTier.ts) run under.
describe("the mocked engine's invokes", () => {
    it("fails a run whose program reads a data source nobody mocked, naming its token", async () => {
        const run = runUnderMocks("receiver-tier", "test", {}, [], async () => {
            const ami = await aws.ec2.getAmi({ owners: ["self"], mostRecent: true });
            return { ami: ami.id };
        });
        await expect(run).rejects.toThrow(UnknownInvokeError);
        await expect(run).rejects.toThrow("the mocked engine answers no invoke aws:ec2/getAmi:getAmi");
    });

    it("answers the invokes the program makes", async () => {
        const run = await runUnderMocks("receiver-tier", "test", {}, [], async () => ({
            ami: aws.ssm.getParameterOutput({ name: "/aws/service/debian/release/12/latest/amd64" }).value,
        }));
        expect(run.outputs).toEqual({ ami: "<value of /aws/service/debian/release/12/latest/amd64>" });
    });
});
