import { spawn } from "child_process";
import * as path from "path";
import type { TestProject } from "vitest/node";
import type { ProgramRun } from "../../../scripts/plan/mockEngine";

/** The stacks whose unedited program run the whole unit suite shares. */
export const SHARED_STACKS = ["canary", "prod", "local"] as const;
export type SharedStack = (typeof SHARED_STACKS)[number];

declare module "vitest" {
    export interface ProvidedContext {
        stackRuns: Record<SharedStack, ProgramRun>;
    }
}

const PROJECT_DIR = path.resolve(__dirname, "..", "..", "..");
const TS_REQUIRE_HOOK = path.join(PROJECT_DIR, "scripts", "tsRequireHook.cjs");

// The program registers its resources once per process, so each stack runs in a child of its own.
function runInChild(stack: SharedStack): Promise<ProgramRun> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--require", TS_REQUIRE_HOOK, path.join(__dirname, "stackRunChild.ts"), stack], {
            cwd: PROJECT_DIR,
            stdio: ["ignore", "pipe", "pipe"],
        });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
        child.on("error", reject);
        child.on("close", (code) => {
            if (code === 0) resolve(JSON.parse(Buffer.concat(out).toString("utf8")) as ProgramRun);
            else reject(new Error(`the ${stack} program run failed (exit ${code}):\n${Buffer.concat(err).toString("utf8")}`));
        });
    });
}

/** Vitest global setup: runs every shared stack once, before any test file, and provides the runs. */
export default async function setup(project: TestProject): Promise<void> {
    const runs = await Promise.all(SHARED_STACKS.map(async (stack) => [stack, await runInChild(stack)] as const));
    project.provide("stackRuns", Object.fromEntries(runs) as Record<SharedStack, ProgramRun>);
}
