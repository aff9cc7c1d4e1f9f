import { describe, expect, it, vi } from "vitest";
import { CONFIG_NAMESPACE } from "../../../components/schema/schema";
import { readStackFile } from "../../../components/config/stackFile";
import { runUnderMocks } from "../../../offline/mockEngine";
import { engineConfig, SECRET_CONFIG_KEYS } from "../../../offline/stackConfig";
import { PROJECT_DIR, PROGRAM_SECRETS } from "./mockTier";

// `pulumi up` reads the same checks as the offline commands, before any resource exists.
function runWith(stack: string, all: Record<string, unknown>, secrets = PROGRAM_SECRETS) {
    vi.resetModules();
    return runUnderMocks("receiver-tier", stack, engineConfig(all, secrets), SECRET_CONFIG_KEYS, () => import("../../../index"));
}

describe("the program refuses, before registering anything", () => {
    it("a key in a namespace nothing reads, naming it and the namespace meant", async () => {
        const all = { ...readStackFile(PROJECT_DIR, "prod").all };
        all["reciever-tier:pgbouncer"] = all[`${CONFIG_NAMESPACE}:pgbouncer`];
        delete all[`${CONFIG_NAMESPACE}:pgbouncer`];
        await expect(runWith("prod", all)).rejects.toThrow(
            /reciever-tier:pgbouncer: unknown namespace .*did you mean receiver-tier:pgbouncer\?/,
        );
    });

    it("a canary password shorter than the minimum, naming the key", async () => {
        const all = readStackFile(PROJECT_DIR, "canary").all;
        await expect(runWith("canary", all, { ...PROGRAM_SECRETS, statsPasswordB: "pw" })).rejects.toThrow(
            new RegExp(`${CONFIG_NAMESPACE}:statsPasswordB: is 2 characters`),
        );
    });
});
