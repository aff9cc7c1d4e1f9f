import { describe, expect, it } from "vitest";
import { encryptedVolumes, imdsV2Required, TYPES } from "../../../policy/rules";

describe("imdsv2-required", () => {
    it.each([TYPES.instance, TYPES.launchTemplate])("passes %s with httpTokens required", (type) => {
        expect(imdsV2Required(type, { metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" } })).toEqual([]);
    });

    it.each([TYPES.instance, TYPES.launchTemplate])("fails %s with httpTokens optional", (type) => {
        expect(imdsV2Required(type, { metadataOptions: { httpTokens: "optional" } })).toEqual([expect.stringContaining('"optional"')]);
    });

    it("fails an instance without metadataOptions (AWS defaults may allow IMDSv1)", () => {
        expect(imdsV2Required(TYPES.instance, {})).toEqual([expect.stringContaining("unset")]);
    });

    it("ignores other resource types", () => {
        expect(imdsV2Required(TYPES.volume, {})).toEqual([]);
    });
});

describe("encrypted-volumes: Instance", () => {
    it("passes an encrypted root and encrypted EBS devices", () => {
        expect(
            encryptedVolumes(TYPES.instance, {
                rootBlockDevice: { encrypted: true },
                ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: true }],
            }),
        ).toEqual([]);
    });

    it("fails a missing rootBlockDevice", () => {
        expect(encryptedVolumes(TYPES.instance, {})).toEqual([expect.stringContaining("rootBlockDevice.encrypted")]);
    });

    it("fails an unencrypted EBS device and names it", () => {
        expect(
            encryptedVolumes(TYPES.instance, {
                rootBlockDevice: { encrypted: true },
                ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: false }],
            }),
        ).toEqual([expect.stringContaining("/dev/sdf")]);
    });
});

describe("encrypted-volumes: LaunchTemplate", () => {
    const ebs = (encrypted: unknown) => ({ deviceName: "/dev/xvda", ebs: { encrypted, volumeSize: 20 } });

    it('passes mappings whose ebs.encrypted is the string "true"', () => {
        expect(encryptedVolumes(TYPES.launchTemplate, { blockDeviceMappings: [ebs("true")] })).toEqual([]);
    });

    it("ignores instance-store mappings next to an encrypted EBS root", () => {
        expect(
            encryptedVolumes(TYPES.launchTemplate, {
                blockDeviceMappings: [ebs("true"), { deviceName: "/dev/sdb", virtualName: "ephemeral0" }],
            }),
        ).toEqual([]);
    });

    it("fails without any mapping: the root volume would follow the AMI", () => {
        expect(encryptedVolumes(TYPES.launchTemplate, {})).toEqual([expect.stringContaining("no blockDeviceMappings")]);
    });

    it.each(["false", undefined])("fails ebs.encrypted %s", (encrypted) => {
        expect(encryptedVolumes(TYPES.launchTemplate, { blockDeviceMappings: [ebs(encrypted)] })).toEqual([
            expect.stringContaining("/dev/xvda"),
        ]);
    });

    it("fails a mapping without ebs that is not instance store either", () => {
        expect(encryptedVolumes(TYPES.launchTemplate, { blockDeviceMappings: [{ deviceName: "/dev/xvda" }] })).toHaveLength(1);
    });
});

describe("encrypted-volumes: Volume", () => {
    it("passes an encrypted volume", () => {
        expect(encryptedVolumes(TYPES.volume, { encrypted: true, size: 20 })).toEqual([]);
    });

    it("fails a volume that leaves encryption unset", () => {
        expect(encryptedVolumes(TYPES.volume, { size: 20 })).toHaveLength(1);
    });
});
