import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { byName, cloudInitFiles, launchTemplateText, plain, stackRun } from "./mockTier";

// Operators reach a host by Session Manager (no SSH key, no open port): every host installs the SSM agent
// in the background at boot, before its readiness check, and its role allows what the agent calls.

describe.each(["canary", "prod"] as const)("Session Manager on stack %s", (stack) => {
    const run = stackRun(stack);
    const userData = (fleet: string) =>
        launchTemplateText((plain(byName(run, `${stack}-${fleet}-hosts-lt`).inputs) as { userData: string }).userData);

    it.each(["pgbouncer", "receivers"])("the %s hosts install the agent from the region's package, off their readiness path", (fleet) => {
        const text = userData(fleet);
        const files = cloudInitFiles(text);
        expect(files.get("/usr/local/sbin/receiver-tier-install-ssm-agent")).toContain("systemctl enable --now amazon-ssm-agent.service");
        expect(files.get("/etc/systemd/system/receiver-tier-ssm-agent.service")).toContain(
            "ExecStart=/usr/local/sbin/receiver-tier-install-ssm-agent",
        );
        const runcmd = (parse(text) as { runcmd: string[][] }).runcmd.map((command) => command.join(" "));
        const started = runcmd.indexOf("systemctl start --no-block receiver-tier-ssm-agent.service");
        expect(started).toBeGreaterThan(-1);
        expect(started).toBeLessThan(runcmd.findIndex((command) => command.startsWith("/usr/local/sbin/receiver-tier-complete-launch")));
    });

    it.each(["pgbouncer", "receivers"])("the %s role allows the agent's calls and its package", (fleet) => {
        const policy = JSON.parse((plain(byName(run, `${stack}-${fleet}-instance-read`).inputs) as { policy: string }).policy);
        expect(policy.Statement).toContainEqual({
            Effect: "Allow",
            Action: [
                "ssm:UpdateInstanceInformation",
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel",
            ],
            Resource: "*",
        });
        expect(policy.Statement).toContainEqual({
            Effect: "Allow",
            Action: ["s3:GetObject"],
            Resource: "arn:aws:s3:::amazon-ssm-us-east-1/latest/debian_amd64/amazon-ssm-agent.deb",
        });
    });
});
