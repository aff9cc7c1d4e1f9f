import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { sdkLoadScript } from "../../../devloop/devLoop";
import { runtimeOptions } from "../../../devloop/languageHost";
import { PROJECT_DIR } from "../support/stackConfig";

describe("how pulumi preview/up start the program", () => {
    const options = runtimeOptions(PROJECT_DIR);

    it("through the npm scripts' TypeScript hook, named relative to the project directory the host runs it in", () => {
        expect(options.typescript).toBe(false);
        expect(options.nodeargs).toBe("--require ./runtime/tsRequireHook.cjs");
        expect(fs.existsSync(path.join(PROJECT_DIR, "runtime", "tsRequireHook.cjs"))).toBe(true);
        // A `main` elsewhere would make that directory the program's, and the relative path wrong.
        expect(parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8"))).not.toHaveProperty("main");
    });
});

describe("bench:dev's SDK load", () => {
    it("loads every Pulumi SDK the project depends on, but the policy pack's, and the modules of the registered types", () => {
        const script = sdkLoadScript(
            ["@pulumi/aws", "@pulumi/policy", "@pulumi/pulumi", "@pulumi/tls", "pg"],
            [
                "aws:ec2/securityGroup:SecurityGroup",
                "aws:ec2/launchTemplate:LaunchTemplate",
                "aws:lb/listener:Listener",
                "tls:index/privateKey:PrivateKey",
                "receiver-tier:aws:Monitoring",
                "pulumi:providers:postgresql",
            ],
        );
        expect(script.split("\n")).toEqual([
            'require("@pulumi/aws");',
            'require("@pulumi/pulumi");',
            'require("@pulumi/tls");',
            'require("@pulumi/aws")["ec2"];',
            'require("@pulumi/aws")["lb"];',
        ]);
    });
});
