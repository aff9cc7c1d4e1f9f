import { beforeAll, describe, expect, it } from "vitest";
import { byName, byType, cloudInitFiles, launchTemplateText, plain, ProgramRun, renderedFiles, stackRun } from "./mockTier";

let run: ProgramRun;
const files = renderedFiles("prod");

beforeAll(async () => {
    run = stackRun("prod");
});

describe("prod stack", () => {
    it("runs three PgBouncer hosts, rolled one at a time, and six receivers", () => {
        const pgbouncer = plain(byName(run, "prod-pgbouncer-hosts-asg").inputs) as Record<string, any>;
        // 134 % of 3 rounds down to 4: one extra host at a time.
        expect(pgbouncer).toMatchObject({ desiredCapacity: 3, minSize: 3, maxSize: 5 });
        expect(pgbouncer.instanceRefresh.preferences).toMatchObject({ minHealthyPercentage: 100, maxHealthyPercentage: 134 });
        expect(plain(byName(run, "prod-receivers-hosts-asg").inputs)).toMatchObject({ desiredCapacity: 6, minSize: 6, maxSize: 12 });
    });

    it("ships prod's pool size in the SSM ini", () => {
        const ini = byName(run, "prod-pgbouncer-ini").inputs.insecureValue as string;
        expect(ini).toBe(files["pgbouncer.ini"]);
        expect(ini).toMatch(/^default_pool_size = 25$/m);
        expect(ini).toMatch(/^max_db_connections = 33$/m);
    });

    it("installs the named app artifact instead of serving the reference receiver, and may read only that object", () => {
        const template = plain(byName(run, "prod-receivers-hosts-lt").inputs) as { userData: string };
        const hostEnv = cloudInitFiles(launchTemplateText(template.userData)).get("/etc/receiver-tier/receiver-host.env");
        const artifact = /^APP_ARTIFACT_URL=(s3:\/\/\S+\.tar\.gz)$/m.exec(hostEnv ?? "")?.[1];
        expect(artifact).toBeDefined();
        const policies = byType(run, "aws:iam/rolePolicy:RolePolicy").map((p) => JSON.parse(plain(p.inputs.policy) as string));
        const s3Reads = policies.flatMap((p) => p.Statement).filter((s: { Action: string[] }) => s.Action.includes("s3:GetObject"));
        // Beside each fleet's Session Manager agent package (README "A shell on a host").
        const agent = "arn:aws:s3:::amazon-ssm-us-east-1/latest/debian_amd64/amazon-ssm-agent.deb";
        expect(s3Reads.map((s: { Resource: string }) => s.Resource).sort()).toEqual(
            [`arn:aws:s3:::${artifact?.slice("s3://".length)}`, agent, agent].sort(),
        );
    });

    it("limits each receiver login to what three hosts, plus one during a roll, can open", () => {
        for (const login of ["webhook_receiver_a", "webhook_receiver_b"]) {
            expect(plain(byName(run, `prod-postgres-role-${login}`).inputs)).toMatchObject({
                connectionLimit: 4 * 33,
                statementTimeout: 5000,
            });
        }
    });
});
