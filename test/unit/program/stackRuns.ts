import * as path from "path";
import type { TestProject } from "vitest/node";
import type { ProgramRun } from "../../../offline/mockEngine";
import { runTypeScript } from "../../../runtime/typeScriptChild";
import { PROJECT_DIR } from "../support/projectDir";

/** The stacks whose unedited program run the whole unit suite shares. */
export const SHARED_STACKS = ["canary", "prod", "local"] as const;
export type SharedStack = (typeof SHARED_STACKS)[number];

declare module "vitest" {
    export interface ProvidedContext {
        stackRuns: Record<SharedStack, ProgramRun>;
    }
}

// The program registers its resources once per process, so each stack runs in a child of its own.
async function runInChild(stack: SharedStack): Promise<ProgramRun> {
    const child = await runTypeScript(path.join(__dirname, "stackRunChild.ts"), [stack], { cwd: PROJECT_DIR });
    if (child.status !== 0) throw new Error(`the ${stack} program run failed (exit ${child.status ?? child.signal}):\n${child.stderr}`);
    return JSON.parse(child.stdout) as ProgramRun;
}

/** Vitest global setup: runs every shared stack once, before any test file, and provides the runs. */
export default async function setup(project: TestProject): Promise<void> {
    const runs = await Promise.all(SHARED_STACKS.map(async (stack) => [stack, await runInChild(stack)] as const));
    project.provide("stackRuns", Object.fromEntries(runs) as Record<SharedStack, ProgramRun>);
}
