import { randomBytes } from "crypto";
import { gunzipSync } from "zlib";
import { describe, expect, it } from "vitest";
import { EC2_USER_DATA_LIMIT_BYTES, launchTemplateUserData } from "../../../../components/render/cloudInit";

describe("launch template user data", () => {
    it("is the text gzipped in base64, byte for byte the same for the same text", () => {
        const text = "#cloud-config\npackages: [nginx]\n";
        const encoded = launchTemplateUserData(text);
        expect(gunzipSync(Buffer.from(encoded, "base64")).toString()).toBe(text);
        expect(launchTemplateUserData(text)).toBe(encoded);
    });

    it("refuses user data whose gzip is above EC2's limit, naming the way out", () => {
        // Random bytes in base64 gzip back to about the random bytes' size (6 bits per character).
        const randomText = (bytes: number) => randomBytes(bytes).toString("base64");
        expect(() => launchTemplateUserData(randomText(EC2_USER_DATA_LIMIT_BYTES + 512))).toThrow(
            /above EC2's 16384: ship the app as receiver\.app\.artifactUrl/,
        );
        expect(() => launchTemplateUserData(randomText(EC2_USER_DATA_LIMIT_BYTES - 1024))).not.toThrow();
    });
});
