import { validateWorkflow } from "@action-validator/core";
import { readdirSync, readFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const WORKFLOW_DIR = join(__dirname, "../../.github/workflows");
const workflowFiles = readdirSync(WORKFLOW_DIR).filter((file) => /\.ya?ml$/.test(file));
const source = (file: string) => readFileSync(join(WORKFLOW_DIR, file), "utf8");

interface Step {
    uses?: string;
    run?: string;
    env?: Record<string, string>;
    "continue-on-error"?: boolean;
    with?: Record<string, unknown>;
}
interface Job {
    if?: string;
    needs?: string | string[];
    permissions?: Record<string, string>;
    "timeout-minutes"?: number;
    "runs-on"?: string | string[];
    environment?: string;
    concurrency?: { group: string; "cancel-in-progress": boolean };
    steps?: Step[];
}
interface Workflow {
    on: Record<string, unknown>;
    permissions?: Record<string, string>;
    jobs: Record<string, Job>;
}

const workflow = (file: string) => parse(source(file)) as Workflow;
const jobs = (file: string) => Object.entries(workflow(file).jobs);
const usesAction = (job: Job, action: string) => (job.steps ?? []).some((step) => step.uses?.startsWith(`${action}@`));
const FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository";

describe("action-validator", () => {
    it("finds the workflows", () => {
        expect(workflowFiles.sort()).toEqual(["deploy.yml", "pull-request.yml"]);
    });

    it.each(workflowFiles)("accepts %s", (file) => {
        expect(validateWorkflow(source(file)).errors).toEqual([]);
    });

    it("rejects a job with a misspelt key and no steps", () => {
        const broken = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    stepz:\n      - run: npm test\n";
        expect(validateWorkflow(broken).errors).not.toEqual([]);
    });

    it("rejects YAML that does not parse", () => {
        expect(validateWorkflow("on: push\njobs: [\n").errors).toEqual([expect.objectContaining({ code: "parse_error" })]);
    });
});

describe.each(workflowFiles)("%s follows our rules", (file) => {
    it("pins every action to a full commit SHA with its version in a comment", () => {
        const usesLines = source(file)
            .split("\n")
            .filter((line) => /^\s*(-\s+)?uses:/.test(line));
        expect(usesLines.length).toBeGreaterThan(0);
        for (const line of usesLines) {
            expect(line).toMatch(/uses:\s+[\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+\s*$/);
        }
    });

    it("grants only contents: read at the top level", () => {
        expect(workflow(file).permissions).toEqual({ contents: "read" });
    });

    it("never runs on pull_request_target", () => {
        expect(Object.keys(workflow(file).on)).not.toContain("pull_request_target");
        expect(source(file)).not.toContain("pull_request_target");
    });

    it("sets a timeout on every job", () => {
        for (const [, job] of jobs(file)) {
            expect(job["timeout-minutes"]).toBeGreaterThan(0);
        }
    });

    it("keeps secrets out of if: conditions, which GitHub rejects", () => {
        for (const [, job] of jobs(file)) {
            expect(job.if ?? "").not.toMatch(/secrets\./);
        }
    });

    it("grants id-token: write only to jobs that assume the AWS role", () => {
        for (const [name, job] of jobs(file)) {
            expect({ name, oidc: job.permissions?.["id-token"] === "write" }).toEqual({
                name,
                oidc: usesAction(job, "aws-actions/configure-aws-credentials"),
            });
        }
    });

    it("grants pull-requests: write only to jobs that comment", () => {
        const comments = (job: Job) =>
            usesAction(job, "actions/github-script") ||
            (job.steps ?? []).some((step) => step.uses?.startsWith("pulumi/actions@") && step.with?.["comment-on-pr"] === true);
        for (const [name, job] of jobs(file)) {
            expect({ name, write: job.permissions?.["pull-requests"] === "write" }).toEqual({ name, write: comments(job) });
        }
    });
});

describe("pull-request.yml", () => {
    const prJobs = Object.fromEntries(jobs("pull-request.yml"));
    // A job is closed to forks when it checks the head repository itself, or needs a job that does
    // and does not run anyway when that job is skipped (always(), failure(), !cancelled()).
    const closedToForks = (name: string): boolean => {
        const job = prJobs[name] as Job;
        const condition = job.if ?? "";
        const runsWhenNeedsSkipped = /always\(\)|failure\(\)|cancelled\(\)/.test(condition);
        return condition.includes(FORK_GUARD) || (!runsWhenNeedsSkipped && [job.needs ?? []].flat().some(closedToForks));
    };

    it("gives secrets and write tokens only to jobs closed to forks", () => {
        for (const [name, job] of Object.entries(prJobs)) {
            const privileged = JSON.stringify(job).includes("secrets.") || Object.values(job.permissions ?? {}).includes("write");
            expect({ name, guarded: !privileged || closedToForks(name) }).toEqual({ name, guarded: true });
        }
    });

    it("runs the policy pack in the preview", () => {
        const preview = (prJobs.preview as Job).steps?.find((step) => step.uses?.startsWith("pulumi/actions@"));
        expect(preview?.with).toMatchObject({ command: "preview", "stack-name": "canary", "comment-on-pr": true, policyPacks: "policy" });
    });

    it("publishes the plan, policy violations included, before its exit status fails the check", () => {
        const planStep = (prJobs.verify as Job).steps?.find((step) => step.run?.includes("npm run --silent plan")) as { run: string };
        const lines = planStep.run.trim().split("\n");
        expect(lines.find((line) => line.includes("npm run --silent plan"))).toMatch(/> plan\.md \|\| status=\$\?$/);
        expect(lines.at(-1)).toBe('exit "$status"');
        expect((prJobs["plan-comment"] as Job).if).toMatch(/!cancelled\(\) && needs\.verify\.outputs\.plan != ''/);
    });

    it("updates one plan comment found by its hidden marker", () => {
        expect(source("pull-request.yml")).toContain("<!-- receiver-tier-plan -->");
        expect(source("pull-request.yml")).toMatch(/updateComment[\s\S]*createComment/);
    });
});

describe("deploy.yml", () => {
    it("deploys on push to main and lets only a manual dispatch choose prod", () => {
        const on = workflow("deploy.yml").on as {
            push: { branches: string[] };
            workflow_dispatch: { inputs: { stack: { options: string[] } } };
        };
        expect(on.push.branches).toEqual(["main"]);
        expect(on.workflow_dispatch.inputs.stack.options).toEqual(["canary", "prod"]);
    });

    it("runs pulumi up in the stack's environment, queued per stack, never cancelled", () => {
        for (const [, job] of jobs("deploy.yml")) {
            const stack = "${{ inputs.stack || 'canary' }}";
            expect(job.environment).toBe(stack);
            expect(job.concurrency).toEqual({ group: `deploy-stack-${stack}`, "cancel-in-progress": false });
            expect(job.steps?.find((step) => step.uses?.startsWith("pulumi/actions@") && step.with?.command === "up")?.with).toMatchObject({
                command: "up",
                "stack-name": stack,
                policyPacks: "policy",
            });
        }
    });

    it("runs on the stack's self-hosted runner inside its VPC and stops at any preflight finding before pulumi up", () => {
        for (const [, job] of jobs("deploy.yml")) {
            expect(job["runs-on"]).toEqual(["self-hosted", "receiver-tier-${{ inputs.stack || 'canary' }}"]);
            const steps = job.steps ?? [];
            const preflight = steps.findIndex((step) => step.run?.includes('npm run preflight -- --stack "$STACK"'));
            const up = steps.findIndex((step) => step.uses?.startsWith("pulumi/actions@") && step.with?.command === "up");
            expect(preflight).toBeGreaterThan(-1);
            expect(preflight).toBeLessThan(up);
            expect(steps[preflight]?.["continue-on-error"]).toBeUndefined();
            expect(steps[preflight]?.env?.STACK).toBe("${{ inputs.stack || 'canary' }}");
            // A later deploy hands preflight the stack's state, so what the stack made is not an obstacle.
            expect(steps[preflight]?.run).toMatch(/pulumi stack export --stack "\$STACK" --file "\$RUNNER_TEMP\/state\.json"/);
            expect(steps[preflight]?.run).toContain('"${state[@]}"');
            // `up` returns before the rolls end: the job waits for each and rolls a failed one back.
            const wait = steps.findIndex((step) => step.run?.includes("npm run -s wait-rolls -- --before"));
            expect(wait).toBeGreaterThan(up);
            expect(steps[wait]?.["continue-on-error"]).toBeUndefined();
        }
    });
});
