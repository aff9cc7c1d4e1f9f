import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readStackState, StackState } from "../../../checks/stackState";

/** `pulumi stack export` output of a canary stack holding these [type, name] resources (plus the stack itself). */
export function exportOf(...resources: [string, string][]): string {
    const urn = (type: string, name: string) => `urn:pulumi:canary::receiver-tier::${type}::${name}`;
    return JSON.stringify({
        version: 3,
        deployment: {
            manifest: { time: "2026-12-01T00:00:00Z" },
            resources: [
                { urn: urn("pulumi:pulumi:Stack", "receiver-tier-canary"), custom: false, type: "pulumi:pulumi:Stack" },
                ...resources.map(([type, name]) => ({
                    urn: urn(`receiver-tier:aws:Parent$${type}`, name),
                    custom: true,
                    id: `id-${name}`,
                    type,
                })),
            ],
        },
    });
}

/** The state as preflight reads it from an export file. */
export function readExport(text: string): StackState {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-state-")), "canary.json");
    fs.writeFileSync(file, text);
    try {
        return readStackState(file, "canary");
    } finally {
        fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
}
