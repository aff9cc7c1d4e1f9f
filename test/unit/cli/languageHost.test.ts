import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { describe, expect, it } from "vitest";
import { sdkLoadScript } from "../../../scripts/bench/devLoop";
import { runtimeOptions } from "../../../scripts/bench/languageHost";
import { PROJECT_DIR } from "../support/stackConfig";

/** A tsconfig file's own compilerOptions, read the way Pulumi's language host reads them (no "extends"). */
function ownCompilerOptions(file: string): Record<string, unknown> {
    const parsed = ts.parseConfigFileTextToJson(file, fs.readFileSync(path.join(PROJECT_DIR, file), "utf8"));
    if (parsed.error) throw new Error(ts.flattenDiagnosticMessageText(parsed.error.messageText, "\n"));
    return (parsed.config as { compilerOptions: Record<string, unknown> }).compilerOptions;
}

describe("how pulumi preview/up start the program", () => {
    const options = runtimeOptions(PROJECT_DIR);

    it("transpiles only, with a tsconfig whose module settings are tsconfig.json's", () => {
        expect(options.typescript).toBe(true);
        expect(options.tsconfig).toBe("tsconfig.pulumi.json");
        const { noCheck, ...rest } = ownCompilerOptions(options.tsconfig as string);
        expect(noCheck).toBe(true);
        const checked = ownCompilerOptions("tsconfig.json");
        // The host overrides target/module/moduleResolution with its own unless this file sets them.
        expect(Object.keys(rest).sort()).toEqual(["module", "moduleResolution", "target"]);
        for (const [key, value] of Object.entries(rest)) expect(value, key).toBe(checked[key]);
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
