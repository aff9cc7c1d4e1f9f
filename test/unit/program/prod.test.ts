import { beforeAll, describe, expect, it } from "vitest";
import { byName, byType, cloudInitFiles, plain, ProgramRun, renderedFiles, runProgram } from "./mockTier";

let run: ProgramRun;
const files = renderedFiles("prod");

beforeAll(async () => {
    run = await runProgram("prod");
});

describe("prod stack", () => {
    it("runs three PgBouncer hosts and six receivers", () => {
        expect(byType(run, "aws:ec2/instance:Instance")).toHaveLength(3);
        expect(plain(byName(run, "prod-receivers-asg").inputs)).toMatchObject({ desiredCapacity: 6, minSize: 6, maxSize: 12 });
        expect(run.outputs.poolEndpoints).toHaveLength(3);
    });

    it("ships prod's pool size in the SSM ini", () => {
        const ini = byName(run, "prod-pgbouncer-ini").inputs.insecureValue as string;
        expect(ini).toBe(files["pgbouncer.ini"]);
        expect(ini).toMatch(/^default_pool_size = 30$/m);
        expect(ini).toMatch(/^max_db_connections = 40$/m);
    });

    it("installs the named app artifact instead of serving the reference receiver, and may read only that object", () => {
        const template = plain(byName(run, "prod-receivers-lt").inputs) as { userData: string };
        const hostEnv = cloudInitFiles(Buffer.from(template.userData, "base64").toString("utf8")).get(
            "/etc/receiver-tier/receiver-host.env",
        );
        const artifact = /^APP_ARTIFACT_URL=(s3:\/\/\S+\.tar\.gz)$/m.exec(hostEnv ?? "")?.[1];
        expect(artifact).toBeDefined();
        const policies = byType(run, "aws:iam/rolePolicy:RolePolicy").map((p) => JSON.parse(plain(p.inputs.policy) as string));
        const s3Reads = policies.flatMap((p) => p.Statement).filter((s: { Action: string[] }) => s.Action.includes("s3:GetObject"));
        expect(s3Reads.map((s: { Resource: string }) => s.Resource)).toEqual([`arn:aws:s3:::${artifact?.slice("s3://".length)}`]);
    });

    it("limits the receiver role to what three hosts can open", () => {
        expect(plain(byName(run, "prod-postgres-receiver").inputs)).toMatchObject({ connectionLimit: 120, statementTimeout: 5000 });
    });
});
