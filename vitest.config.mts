import { defineConfig } from "vitest/config";

// test/unit/program/ holds every unit file that runs the Pulumi program, mocks a module it loads or reads the
// shared stack runs (a global setup of this project, test/unit/program/stackRuns.ts): each gets a fresh module
// graph. Every other unit file is pure and shares one graph per worker.
const ISOLATED = ["test/unit/program/**/*.test.ts"];

// Vitest's default is one worker less than the CPUs: one on a 2-core runner, where the files' child
// processes (plans, scripts) and imports leave room for a second.
const UNIT_WORKERS = 2;

export default defineConfig({
    test: {
        projects: [
            {
                test: {
                    name: "unit",
                    include: ISOLATED,
                    // Each stack's unedited program runs once, for every file that reads it.
                    globalSetup: ["test/unit/program/stackRuns.ts"],
                    // Each file gets a fresh Pulumi runtime and mocks.
                    isolate: true,
                    maxWorkers: UNIT_WORKERS,
                    testTimeout: 30_000,
                },
            },
            {
                test: {
                    // Pure functions, the CLI layer and the docs: one module graph per worker, loaded once.
                    name: "unit-shared",
                    include: ["test/unit/**/*.test.ts"],
                    exclude: ISOLATED,
                    isolate: false,
                    maxWorkers: UNIT_WORKERS,
                    testTimeout: 30_000,
                },
            },
            {
                test: {
                    name: "integration",
                    include: ["test/integration/**/*.test.ts"],
                    // Real PostgreSQL/PgBouncer/Gunicorn: one file at a time on a 2-core machine.
                    fileParallelism: false,
                    testTimeout: 180_000,
                    hookTimeout: 180_000,
                },
            },
        ],
    },
});
