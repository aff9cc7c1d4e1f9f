import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        projects: [
            {
                test: {
                    name: "unit",
                    include: ["test/unit/**/*.test.ts"],
                    // Each stack's unedited program runs once, for every file that reads it.
                    globalSetup: ["test/unit/program/stackRuns.ts"],
                    // Each file gets a fresh Pulumi runtime and mocks.
                    isolate: true,
                    // Vitest's default is one worker less than the CPUs: one on a 2-core runner, where the
                    // files' child processes (plans, scripts) and imports leave room for a second.
                    maxWorkers: 2,
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
