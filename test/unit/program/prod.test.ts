import { beforeAll, describe, expect, it } from "vitest";
import { byName, byType, plain, ProgramRun, renderedFiles, runProgram } from "./mockTier";

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

    it("limits the receiver role to what three hosts can open", () => {
        expect(plain(byName(run, "prod-postgres-receiver").inputs)).toMatchObject({ connectionLimit: 120, statementTimeout: 5000 });
    });
});
