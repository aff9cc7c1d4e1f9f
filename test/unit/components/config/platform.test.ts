import { describe, expect, expectTypeOf, it } from "vitest";
import { parseTierConfig } from "../../../../components/config/load";
import { ConfigError } from "../../../../components/schema/problems";
import { AwsSettings, DockerTierConfig, hasPlatformSection, TierConfig, tierSchema } from "../../../../components/schema/schema";
import { canaryRaw, edited } from "../../support/stackConfig";

describe("TierConfig is a union on platform", () => {
    it("narrows aws to AwsSettings on platform aws (checked by tsc)", () => {
        expectTypeOf<Extract<TierConfig, { platform: "aws" }>["aws"]>().toEqualTypeOf<AwsSettings>();
        expectTypeOf<DockerTierConfig["aws"]>().toEqualTypeOf<AwsSettings | undefined>();
        const cfg = parseTierConfig(canaryRaw()).config;
        if (cfg.platform !== "aws") throw new Error("canary is an aws stack");
        expect(cfg.aws.vpcId).toMatch(/^vpc-/);
    });

    it("is what the schema gives once the platform's section is there", () => {
        expect(hasPlatformSection(tierSchema.parse({ platform: "docker" }))).toBe(true);
        expect(hasPlatformSection(tierSchema.parse(canaryRaw()))).toBe(true);
        expect(hasPlatformSection(tierSchema.parse(edited(canaryRaw(), ["aws", undefined])))).toBe(false);
    });

    it("an aws stack without its section is refused by the rule, with every other problem, not by a throw later", () => {
        const raw = edited(canaryRaw(), ["aws", undefined], ["sender.burstLimit", 1]);
        const err = (() => {
            try {
                parseTierConfig(raw);
            } catch (thrown) {
                return thrown;
            }
            return undefined;
        })();
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).problems.map((p) => p.path).sort()).toEqual(["receiver-tier:aws", "receiver-tier:sender.burstLimit"]);
    });
});
