import { execFileSync } from "child_process";
import * as path from "path";
import { PROJECT_DIR } from "../../runtime/projectDir";

// The receiver app artifact as a deploy builds it for receiver.app.artifactUrl: a .tar.gz of the app
// files in files/receiver (install-receiver.sh unpacks it into /opt/webhook-receiver/app).

export function buildReceiverArtifact(): Buffer {
    return execFileSync(
        "tar",
        ["-czf", "-", "--owner=0", "--group=0", "-C", path.join(PROJECT_DIR, "files", "receiver"), "webhook_receiver.py"],
        {
            maxBuffer: 64 * 1024 * 1024,
        },
    );
}

/** Bucket and key of an s3:// URL. */
export function s3Location(url: string): { bucket: string; key: string } {
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
    if (!match) throw new Error(`not an s3:// object URL: ${url}`);
    return { bucket: match[1] as string, key: match[2] as string };
}
