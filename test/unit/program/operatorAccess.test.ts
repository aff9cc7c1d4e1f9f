import { describe, expect, it, vi } from "vitest";
import { byType, plain, runProgram } from "./mockTier";

describe("operator access to PgBouncer", () => {
    it("admits exactly the configured operators on PgBouncer's port, at the NLB and the hosts", async () => {
        vi.resetModules();
        const run = await runProgram("canary", (raw) => {
            raw.monitoring = { ...raw.monitoring, operatorCidrs: ["10.99.1.0/24"], operatorSecurityGroupIds: ["sg-0aaa0aaa0aaa0aaa1"] };
        });
        const operatorRules = byType(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
            .filter((r) => r.name.includes("operator"))
            .map((r) => ({ name: r.name, ...(plain(r.inputs) as Record<string, any>) }) as Record<string, any>);
        expect(operatorRules.map((r) => [r.name, r.fromPort, r.toPort, r.cidrIpv4 ?? r.referencedSecurityGroupId]).sort()).toEqual([
            ["canary-sg-nlb-from-operator-1", 6432, 6432, "10.99.1.0/24"],
            ["canary-sg-nlb-from-operator-2", 6432, 6432, "sg-0aaa0aaa0aaa0aaa1"],
            ["canary-sg-pgbouncer-from-operator-1", 6432, 6432, "10.99.1.0/24"],
            ["canary-sg-pgbouncer-from-operator-2", 6432, 6432, "sg-0aaa0aaa0aaa0aaa1"],
        ]);
    });
});
