import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { tierSchema } from "../../components/config/schema";

const readme = fs.readFileSync(path.resolve(__dirname, "..", "..", "README.md"), "utf8");
const reference = readme.slice(readme.indexOf("## Config reference"), readme.indexOf("## Deviations from the runbook"));

function leafKeys(value: unknown, at: string[] = []): string[][] {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        return Object.entries(value).flatMap(([key, v]) => leafKeys(v, [...at, key]));
    }
    return [at];
}

describe("README config reference", () => {
    const defaults = tierSchema.parse({
        platform: "aws",
        receiver: { gunicorn: { threads: 2, worker_connections: 100, keepalive: 5 }, app: { artifactUrl: "s3://bucket/app.tar.gz" } },
        aws: {
            vpcId: "vpc-0",
            privateSubnetIds: ["subnet-0"],
            publicSubnetIds: ["subnet-1", "subnet-2"],
            postgresSecurityGroupId: "sg-0",
            certificateArn: "arn:aws:acm:x",
            publicZoneId: "Z",
            privateZoneId: "Z",
        },
    });

    it.each(leafKeys(defaults).map((key) => [key.join("."), key]))("documents %s", (_name, key) => {
        const [section, ...rest] = key as string[];
        expect(reference).toContain(section);
        expect(reference).toContain(rest.at(-1) ?? section);
    });

});
