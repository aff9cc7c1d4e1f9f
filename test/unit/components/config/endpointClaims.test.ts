import { describe, expect, it } from "vitest";
import { endpointClashes } from "../../../../components/config/endpointClaims";
import { parseTierConfig } from "../../../../components/config/load";
import { TierConfig } from "../../../../components/schema/schema";
import { listStacks, readStackFile } from "../../../../components/config/stackFile";
import { canaryRaw, PROJECT_DIR } from "../../support/stackConfig";

// Every stack answers on its own names: two stacks claiming one public domain (canary as the
// production endpoint) or one private name in one zone fail here, before any `pulumi up`.

const stacks = (): Record<string, TierConfig> =>
    Object.fromEntries(listStacks(PROJECT_DIR).map((stack) => [stack, parseTierConfig(readStackFile(PROJECT_DIR, stack).raw).config]));

describe("endpoints of the stack files", () => {
    it("no two stack files claim the same public domain or private DNS name", () => {
        expect(endpointClashes(stacks())).toEqual([]);
    });

    it("canary has its own public domain, not production's", () => {
        const all = stacks();
        expect(all.canary?.receiver.domain).toBe("api-canary.deltacrown.gg");
        expect(all.prod?.receiver.domain).toBe("api.deltacrown.gg");
        expect(all.canary?.aws?.certificateArn).not.toBe(all.prod?.aws?.certificateArn);
    });
});

describe("endpointClashes", () => {
    const canary = parseTierConfig(canaryRaw()).config;
    const variant = (edit: (raw: Record<string, any>) => void) => {
        const raw = canaryRaw() as Record<string, any>;
        edit(raw);
        return parseTierConfig(raw).config;
    };

    it("finds a second stack on the same public domain, even in another account's zone", () => {
        const other = variant((raw) => {
            raw.aws.publicZoneId = "ZOTHERACCOUNT";
            raw.aws.privateZoneId = "ZOTHERPRIVATE";
        });
        expect(endpointClashes({ canary, other })).toEqual([
            { key: "receiver.domain", name: "api-canary.deltacrown.gg", stacks: ["canary", "other"] },
        ]);
    });

    it("finds a second stack on the same private name in the same private zone, and none in another zone", () => {
        const sameZone = variant((raw) => {
            raw.receiver.domain = "api-other.deltacrown.gg";
        });
        expect(endpointClashes({ canary, sameZone })).toEqual([
            { key: "pgbouncer.dnsName", name: "pgbouncer.internal", stacks: ["canary", "sameZone"] },
        ]);
        const otherZone = variant((raw) => {
            raw.receiver.domain = "api-other.deltacrown.gg";
            raw.aws.privateZoneId = "ZOTHERPRIVATE";
        });
        expect(endpointClashes({ canary, otherZone })).toEqual([]);
    });
});
