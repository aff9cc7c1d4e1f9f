import { runScript } from "./runScript";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { CommandSpec, Io, Options, processIo, runCommand } from "../../../scripts/args";
import { benchCommand } from "../../../scripts/bench";
import { benchDevCommand } from "../../../scripts/benchDev";
import { localCommand } from "../../../scripts/local";
import { importPlanCommand } from "../../../scripts/importPlan";
import { preflightCommand } from "../../../scripts/preflight";
import { planCommand } from "../../../scripts/plan";
import { renderCommand } from "../../../scripts/render";
import { verifyCommand } from "../../../scripts/verify";
import { waitRollsCommand } from "../../../scripts/waitRolls";

const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-cli-"));
afterAll(() => fs.rmSync(tempRoot, { recursive: true, force: true }));

/** Captures what a command writes; `progress` is what a terminal would show. */
function capture() {
    const out = { stdout: "", stderr: "", progress: [] as string[] };
    const io: Io = {
        stdout: (text) => (out.stdout += text),
        stderr: (text) => (out.stderr += text),
        progress: (text) => out.progress.push(text),
    };
    return { io, out };
}

/** The command with its body replaced by a spy, so parsing is tested without side effects. */
type Described = { readonly spec: CommandSpec<Options> };

async function parseOnly(command: Described, argv: string[]) {
    const run = vi.fn(async () => 0);
    const { io, out } = capture();
    const code = await runCommand({ spec: command.spec, run }, argv, io);
    return { code, run, ...out };
}

const COMMANDS = {
    render: renderCommand,
    plan: planCommand,
    verify: verifyCommand,
    bench: benchCommand,
    "bench:dev": benchDevCommand,
    local: localCommand,
    "import-plan": importPlanCommand,
    preflight: preflightCommand,
    "wait-rolls": waitRollsCommand,
} as const;

/** A misspelling of one real option per command, and the option it should suggest. */
const TYPOS: Record<keyof typeof COMMANDS, [string, string]> = {
    render: ["--ouut", "--out"],
    plan: ["--fromat", "--format"],
    verify: ["--pgbounce", "--pgbouncer"],
    bench: ["--client", "--clients"],
    "bench:dev": ["--run", "--runs"],
    local: ["--port-bse", "--port-base"],
    "import-plan": ["--ot", "--out"],
    preflight: ["--stak", "--stack"],
    "wait-rolls": ["--befor", "--before"],
};

/** Options each command accepts, to put beside the one under test. */
const validArgs = (name: string) =>
    name === "bench"
        ? ["--seconds", "5"]
        : name === "local"
          ? ["--fresh"]
          : name === "wait-rolls"
            ? ["--before", "a.json", "--after", "-", "--since", "2026-12-03T10:00:00Z"]
            : ["--stack", "local"];

describe.each(Object.entries(COMMANDS))("npm run %s", (name, command) => {
    it("--help lists every option and an example, exits 0 and runs nothing", async () => {
        for (const argv of [["--help"], ["-h"], [...validArgs(name), "--help"]]) {
            const { code, run, stdout, stderr } = await parseOnly(command, argv);
            expect(code).toBe(0);
            expect(run).not.toHaveBeenCalled();
            expect(stderr).toBe("");
            expect(stdout).toContain(`usage: npm run -s ${name} -- [options]`);
            for (const option of [...Object.keys(command.spec.options), "help"]) expect(stdout).toContain(`--${option}`);
            expect(stdout).toMatch(new RegExp(`examples?:\\n  .*npm run -s ${name}`));
        }
    });

    it("refuses an unknown option with exit 2, naming it and the closest valid one", async () => {
        const [typo, meant] = TYPOS[name as keyof typeof COMMANDS];
        const { code, run, stdout, stderr } = await parseOnly(command, [...validArgs(name), typo, "x"]);
        expect(code).toBe(2);
        expect(run).not.toHaveBeenCalled();
        expect(stdout).toBe("");
        expect(stderr).toContain(`unknown option ${typo}; did you mean ${meant}?`);
    });

    it("refuses a stray positional argument with exit 2", async () => {
        const { code, run, stderr } = await parseOnly(command, ["extra"]);
        expect(code).toBe(2);
        expect(run).not.toHaveBeenCalled();
        expect(stderr).toContain("extra");
    });
});

describe("option values are checked before a command runs (exit 2)", () => {
    const existingFile = path.join(tempRoot, "a-file");
    fs.writeFileSync(existingFile, "");
    const cases: [string, Described, string[], RegExp][] = [
        ["a missing --stack", renderCommand, ["--out", tempRoot], /missing --stack <name>/],
        ["an empty --out", renderCommand, ["--stack", "local", "--out", ""], /--out must name a directory/],
        ["an --out that is a file", renderCommand, ["--stack", "local", "--out", existingFile], /exists and is not a directory/],
        [
            "a --project-dir that does not exist",
            renderCommand,
            ["--stack", "local", "--out", tempRoot, "--project-dir", path.join(tempRoot, "nope")],
            /is not a directory/,
        ],
        ["a --format plan does not know", planCommand, ["--stack", "canary", "--format", "yaml"], /--format must be one of md, json/],
        ["a --diff without a ref", planCommand, ["--stack", "canary", "--diff"], /--diff/],
        [
            "a port out of range",
            verifyCommand,
            ["--stack", "local", "--pgbouncer", "127.0.0.1:77777"],
            /port must be a whole number from 1 to 65535/,
        ],
        ["an endpoint without a port", verifyCommand, ["--stack", "local", "--postgres", "127.0.0.1"], /--postgres must be host:port/],
        [
            "a health URL that is not http(s)",
            verifyCommand,
            ["--stack", "local", "--health-url", "ftp://x/health"],
            /--health-url must be an http/,
        ],
        ["a verify --format it does not know", verifyCommand, ["--stack", "local", "--format", "jsn"], /did you mean json\?/],
        ["no clients", benchCommand, ["--clients", "0"], /--clients must be a whole number from 1 to 500/],
        ["a fractional duration", benchCommand, ["--seconds", "1.5"], /--seconds must be a whole number/],
    ];
    it.each(cases)("%s", async (_what, command, argv, message) => {
        const { code, run, stderr } = await parseOnly(command, argv);
        expect(code).toBe(2);
        expect(run).not.toHaveBeenCalled();
        expect(stderr).toMatch(message);
        expect(stderr).toContain(`every option: npm run -s ${command.spec.name} -- --help`);
    });

    it("hands the command typed values", async () => {
        const { code, run } = await parseOnly(verifyCommand, ["--stack", "local", "--pgbouncer=127.0.0.1:7777", "--format", "json"]);
        expect(code).toBe(0);
        expect(run.mock.calls[0]).toEqual([
            expect.objectContaining({ stack: "local", pgbouncer: { host: "127.0.0.1", port: 7777 }, format: "json" }),
            expect.anything(),
        ]);
    });
});

describe("progress output", () => {
    it("goes to stderr only when stderr is a terminal", () => {
        const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
        const wasTTY = process.stderr.isTTY;
        try {
            process.stderr.isTTY = false;
            processIo().progress("step one");
            expect(write).not.toHaveBeenCalled();
            process.stderr.isTTY = true;
            processIo().progress("step two");
            expect(write).toHaveBeenCalledWith("step two\n");
        } finally {
            process.stderr.isTTY = wasTTY;
            write.mockRestore();
        }
    });
});

// The scripts as an operator starts them: the exit status is what CI and shells see.
describe("the scripts' exit status", { timeout: 60_000 }, () => {
    const start = (script: string, ...args: string[]) => runScript(script, args);

    it("bench --help prints help and exits 0 without starting PostgreSQL", () => {
        const result = start("scripts/bench.ts", "--help");
        expect(result.status).toBe(0);
        expect(result.stdout).toContain("--clients <n>");
        expect(result.stderr).not.toMatch(/starting|initdb/);
    });

    it("verify with a misspelt option exits 2 naming it, before checking anything", () => {
        const result = start("scripts/verify.ts", "--stack", "local", "--pgbounce", "127.0.0.1:7777");
        expect(result.status).toBe(2);
        expect(result.stdout).toBe("");
        expect(result.stderr).toContain("unknown option --pgbounce; did you mean --pgbouncer?");
    });
});
