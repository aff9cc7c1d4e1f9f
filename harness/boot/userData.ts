import { gunzipSync } from "zlib";
import { parse } from "yaml";

// Reading the launch templates' user data the way cloud-init does: base64 off (EC2), gzip off (cloud-init).

export interface CloudConfig {
    readonly packages: string[];
    readonly runcmd: string[][];
    readonly write_files: { path: string; content: string; permissions: string }[];
}

/** The bytes EC2 hands the instance: what the NoCloud seed's user-data holds, unchanged. */
export function userDataBytes(base64: string): Buffer {
    return Buffer.from(base64, "base64");
}

export function cloudConfigOf(base64: string): CloudConfig {
    const text = gunzipSync(userDataBytes(base64)).toString("utf8");
    if (!text.startsWith("#cloud-config\n")) throw new Error("user data is not a #cloud-config document");
    return parse(text) as CloudConfig;
}

/** Units the user data enables (systemctl enable [--now] ...), in order. */
export function enabledUnits(cfg: CloudConfig): string[] {
    return cfg.runcmd
        .filter((cmd) => cmd[0] === "systemctl" && cmd[1] === "enable")
        .flatMap((cmd) => cmd.slice(2).filter((a) => !a.startsWith("--")));
}
