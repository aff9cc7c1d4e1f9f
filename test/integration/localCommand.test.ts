import { receiverLogins, statsLogins } from "../../components/model/logins";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readStackFile, readTierSecrets } from "../../components/config/stackFile";
import {
    aptInstallLine,
    childPids,
    activeLogin,
    connectPg,
    DATA_DIR,
    debianPackages,
    endQuietly,
    isAlive,
    loadTierConfig,
    missingPackages,
    portFree,
    rowsOf,
    sleep,
    stopPid,
    waitFor,
} from "../../harness";
import { PROJECT_DIR } from "../../runtime/projectDir";

// `npm run local` as a user runs it: a child process on its own ports and state dir, stopped by SIGTERM.

const cfg = loadTierConfig("local");
const secrets = readTierSecrets(readStackFile(PROJECT_DIR, "local"), "local", {}, "docker");
const READY_TIMEOUT_MS = 150_000;
const EXIT_TIMEOUT_MS = 60_000;

/** One `npm run local` child with everything it printed so far. */
class LocalRun {
    readonly child: ChildProcess;
    stdout = "";
    stderr = "";
    readonly exited: Promise<number | null>;

    constructor(args: readonly string[]) {
        this.child = spawn("npm", ["run", "local", "--", ...args], {
            cwd: PROJECT_DIR,
            env: process.env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        this.child.stdout?.on("data", (chunk: Buffer) => (this.stdout += chunk.toString()));
        this.child.stderr?.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
        this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
    }

    get pid(): number {
        return this.child.pid as number;
    }

    /** Waits (bounded) for the line that says the tier is up, failing at once if the command exits. */
    async ready(): Promise<void> {
        const deadline = Date.now() + READY_TIMEOUT_MS;
        while (!/^Running in the foreground/m.test(this.stdout)) {
            const ended = this.child.exitCode ?? this.child.signalCode;
            const problem =
                ended !== null
                    ? `exited ${ended} before it was ready`
                    : Date.now() > deadline
                      ? `not ready after ${READY_TIMEOUT_MS} ms`
                      : "";
            if (problem) throw new Error(`npm run local ${problem}\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`);
            await sleep(100);
        }
    }

    async exitCode(): Promise<number | null> {
        return Promise.race([
            this.exited,
            sleep(EXIT_TIMEOUT_MS).then(() => {
                throw new Error(`npm run local did not exit within ${EXIT_TIMEOUT_MS} ms:\n${this.stdout}${this.stderr}`);
            }),
        ]);
    }

    /** The printed stack outputs, name -> value as printed. */
    outputs(): Map<string, string> {
        const block = this.stdout.slice(this.stdout.indexOf("Current stack outputs"));
        const rows = block.split("\n\n")[0]?.split("\n").slice(2) ?? [];
        return new Map(rows.map((row) => /^ {4}(\w+) +(.*)$/.exec(row)).map((m) => [m?.[1] ?? "", m?.[2] ?? ""]));
    }

    /** The printed "Try it" command that starts with `prefix`. */
    command(prefix: string): string {
        const block = this.stdout.slice(this.stdout.indexOf("Try it:"));
        const line = block.split("\n").find((l) => l.trim().startsWith(prefix));
        if (!line) throw new Error(`no printed command starting with ${prefix}:\n${this.stdout}`);
        return line.trim();
    }

    /** Every PID the run printed (its own, PostgreSQL, PgBouncer, Gunicorn and workers). */
    printedPids(): number[] {
        const pids = [...this.stdout.matchAll(/\(pid (\d+)(?:, workers ([\d ]+))?\)/g)].flatMap((m) => [
            Number(m[1]),
            ...(m[2] ?? "").split(" ").filter(Boolean).map(Number),
        ]);
        return [...new Set(pids)];
    }

    /** Ends whatever is left of it by PID (only after a failed test). */
    async kill(): Promise<void> {
        for (const pid of [...this.printedPids(), ...descendants(this.pid), this.pid]) {
            if (isAlive(pid)) await stopPid(pid, "SIGKILL", 0).catch(() => undefined);
        }
    }
}

/** A process and everything below it in the tree, from /proc. */
function descendants(pid: number): number[] {
    const children = isAlive(pid) ? childPids(pid) : [];
    return [...children, ...children.flatMap(descendants)];
}

/** Three consecutive free ports below the OS's ephemeral range, so no other test is handed them meanwhile. */
async function freePortBase(): Promise<number> {
    for (let attempt = 0; attempt < 50; attempt++) {
        const base = 20_000 + Math.floor(Math.random() * 9_000);
        const free = await Promise.all([0, 1, 2].map((offset) => portFree(base + offset)));
        if (free.every(Boolean)) return base;
    }
    throw new Error("no three consecutive free ports found");
}

function bash(command: string, env: NodeJS.ProcessEnv = {}): { status: number | null; output: string } {
    const result = spawnSync("bash", ["-c", command], {
        cwd: PROJECT_DIR,
        env: { ...process.env, ...env },
        encoding: "utf8",
        timeout: 90_000,
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("npm run local", () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-local-"));
    const runs: LocalRun[] = [];
    const start = (...args: string[]) => {
        const run = new LocalRun(["--state-dir", stateDir, ...args]);
        runs.push(run);
        return run;
    };
    let base: number;
    let first: LocalRun;
    let webhookId: number;

    beforeAll(async () => {
        base = await freePortBase();
        first = start("--port-base", String(base));
        await first.ready();
    });
    afterAll(async () => {
        for (const run of runs) await run.kill();
        fs.rmSync(stateDir, { recursive: true, force: true });
    });

    it("reports each step while it starts, in order", () => {
        const steps = ["initdb", "database.sql", "PgBouncer on", "Gunicorn on", "health: healthy"];
        const at = steps.map((step) => first.stdout.indexOf(`local: ${step}`));
        expect(
            at.every((index) => index >= 0),
            first.stdout,
        ).toBe(true);
        expect([...at].sort((a, b) => a - b)).toEqual(at);
    });

    it("prints the stack outputs, each true of the running tier on the ports --port-base chose", async () => {
        const outputs = first.outputs();
        expect([...outputs.keys()].sort()).toEqual([
            "healthUrl",
            "pgbouncerEndpoint",
            "poolEndpoints",
            "senderLimits",
            "showPoolsCommand",
            "statementTimeout",
        ]);
        const healthUrl = outputs.get("healthUrl") as string;
        expect(new URL(healthUrl).port).toBe(String(base + 2));
        const health = await fetch(healthUrl, { signal: AbortSignal.timeout(15_000) });
        expect(health.status).toBe(200);
        expect(await health.json()).toMatchObject({ status: "healthy" });

        expect(outputs.get("pgbouncerEndpoint")).toBe(`127.0.0.1:${base + 1}`);
        expect(JSON.parse(outputs.get("poolEndpoints") as string)).toEqual([outputs.get("pgbouncerEndpoint")]);
        const receiver = await connectPg(
            { host: "127.0.0.1", port: base + 1 },
            { ...activeLogin(receiverLogins(cfg), secrets), database: cfg.pgbouncer.databaseAlias },
        );
        try {
            const [row] = await rowsOf(receiver, "SHOW statement_timeout");
            expect(outputs.get("statementTimeout")).toBe(row?.statement_timeout);
        } finally {
            await endQuietly(receiver);
        }
        expect(Object.keys(JSON.parse(outputs.get("senderLimits") as string))).toContain("WEBHOOK_MAX_QPS");

        // Runnable as printed: psql asks for the password, PGPASSWORD answers it.
        const pools = bash(outputs.get("showPoolsCommand") as string, { PGPASSWORD: activeLogin(statsLogins(cfg), secrets).password });
        expect(pools.output).toMatch(new RegExp(`^ ${cfg.pgbouncer.databaseAlias} +\\| ${receiverLogins(cfg).active.name} `, "m"));
        expect(pools.status).toBe(0);
    });

    it("prints a curl that posts a sample webhook, which reads back through PgBouncer", async () => {
        const posted = bash(first.command("TS="));
        expect(posted.status).toBe(0);
        webhookId = (JSON.parse(posted.output) as { id: number }).id;
        expect(webhookId).toBeGreaterThan(0);

        const client = await connectPg(
            { host: "127.0.0.1", port: base + 1 },
            { ...activeLogin(receiverLogins(cfg), secrets), database: cfg.pgbouncer.databaseAlias },
        );
        try {
            const rows = await client.query(`SELECT source, payload FROM ${cfg.receiverRole.name}.webhook_events WHERE id = $1`, [
                webhookId,
            ]);
            expect(rows.rows).toHaveLength(1);
            const sent = /-d '([^']*)'/.exec(first.command("TS="))?.[1] as string;
            expect(rows.rows[0].payload).toEqual(JSON.parse(sent));
        } finally {
            await endQuietly(client);
        }
        const readBack = bash(first.command("psql"), { PGPASSWORD: activeLogin(receiverLogins(cfg), secrets).password });
        expect(readBack.output).toMatch(new RegExp(`^ +${webhookId} \\|`, "m"));
    });

    it("passes npm run verify, run as printed", () => {
        const verify = bash(first.command("npm run verify"));
        expect(verify.output).toMatch(/checklist: (\d+) of \1 checks passed/);
        expect(verify.status).toBe(0);
    });

    it("refuses a second start on the same state dir with exit status 2, naming the running one", async () => {
        const second = start("--port-base", String(base));
        expect(await second.exitCode()).toBe(2);
        const running = /Running in the foreground \(pid (\d+)\)/.exec(first.stdout)?.[1];
        expect(second.stderr).toContain(`already running (pid ${running}`);
        expect(first.child.exitCode).toBeNull();
    });

    it("stops every process it started on SIGTERM, frees its ports and keeps only the database", async () => {
        const postmaster = Number(/PostgreSQL 15 on [\d.:]+ \(pid (\d+)\)/.exec(first.stdout)?.[1]);
        const started = [...new Set([...first.printedPids(), ...descendants(first.pid), ...descendants(postmaster)])];
        expect(started.length).toBeGreaterThanOrEqual(6);
        expect(started.filter((pid) => !isAlive(pid))).toEqual([]);

        first.child.kill("SIGTERM");
        expect(await first.exitCode()).toBe(0);
        await waitFor("every process of the run to end", 30_000, () => (started.some(isAlive) ? undefined : true));
        for (const port of [base, base + 1, base + 2]) expect(await portFree(port)).toBe(true);
        expect(fs.readdirSync(stateDir)).toEqual([DATA_DIR]);
        expect(first.stdout).toMatch(/local: stopped/);
    });

    it("keeps the webhooks across a restart, and --fresh starts empty and leaves nothing behind", async () => {
        const again = start("--port-base", String(base));
        await again.ready();
        expect(again.stdout).not.toMatch(/local: initdb/);
        const client = await connectPg(
            { host: "127.0.0.1", port: base + 1 },
            { ...activeLogin(receiverLogins(cfg), secrets), database: cfg.pgbouncer.databaseAlias },
        );
        try {
            const rows = await client.query(`SELECT id FROM ${cfg.receiverRole.name}.webhook_events WHERE id = $1`, [webhookId]);
            expect(rows.rows).toHaveLength(1);
        } finally {
            await endQuietly(client);
        }
        again.child.kill("SIGTERM");
        expect(await again.exitCode()).toBe(0);

        const fresh = start("--port-base", String(base), "--fresh");
        await fresh.ready();
        expect(fresh.stdout).toMatch(/local: initdb/);
        const empty = await connectPg(
            { host: "127.0.0.1", port: base + 1 },
            { ...activeLogin(receiverLogins(cfg), secrets), database: cfg.pgbouncer.databaseAlias },
        );
        try {
            const tables = await empty.query(`SELECT 1 FROM ${cfg.receiverRole.name}.webhook_events`);
            expect(tables.rows).toEqual([]);
        } finally {
            await endQuietly(empty);
        }
        fresh.child.kill("SIGTERM");
        expect(await fresh.exitCode()).toBe(0);
        expect(fs.existsSync(stateDir) ? fs.readdirSync(stateDir) : []).toEqual([]);
    });

    it("--standby: switches over with the printed npm run switchover, keeps serving from the promoted standby, stops it all", async () => {
        const run = start("--port-base", String(base), "--standby");
        await run.ready();
        const printed = /try: (npm run switchover -- --stack local.*)$/m.exec(run.stdout)?.[1];
        expect(printed, run.stdout).toBeDefined();
        const started = run.printedPids();
        const switched = bash(printed as string);
        expect(switched.status, switched.output).toBe(0);
        expect(switched.output).toMatch(/switchover done/);
        await sleep(2000); // the run watches its programs every second: the stopped old primary must not end it
        expect(run.child.exitCode).toBeNull();
        const client = await connectPg(
            { host: "127.0.0.1", port: base + 1 },
            { ...activeLogin(receiverLogins(cfg), secrets), database: cfg.pgbouncer.databaseAlias },
        );
        try {
            const rows = await client.query("SELECT pg_is_in_recovery() AS recovery, inet_server_port() AS port");
            expect(rows.rows[0]).toMatchObject({ recovery: false });
            expect(rows.rows[0]?.port).not.toBe(base);
        } finally {
            await endQuietly(client);
        }
        run.child.kill("SIGTERM");
        expect(await run.exitCode()).toBe(0);
        await waitFor("every process of the run to end", 30_000, () => (started.some(isAlive) ? undefined : true));
        expect(fs.existsSync(stateDir) ? fs.readdirSync(stateDir) : []).toEqual([]);
    });

    it("stops the rest and exits 1 when one of its programs dies", async () => {
        const run = start("--port-base", String(base), "--fresh");
        await run.ready();
        const pgbouncer = Number(/PgBouncer on [\d.:]+ \(pid (\d+)\)/.exec(run.stdout)?.[1]);
        const started = run.printedPids();
        await stopPid(pgbouncer, "SIGKILL", 0);
        expect(await run.exitCode()).toBe(1);
        expect(run.stdout).toMatch(/local: stopping \(PgBouncer exited on its own\)/);
        await waitFor("every process of the run to end", 30_000, () => (started.some(isAlive) ? undefined : true));
        for (const port of [base, base + 1, base + 2]) expect(await portFree(port)).toBe(true);
    });

    it("names a busy port with its config key, and starts nothing", async () => {
        const blocker = net.createServer();
        await new Promise<void>((resolve) => blocker.listen(base + 1, "127.0.0.1", resolve));
        try {
            const run = start("--port-base", String(base));
            expect(await run.exitCode()).toBe(1);
            expect(run.stderr).toContain(`127.0.0.1:${base + 1} (PgBouncer, receiver-tier:docker.pgbouncerHostPort) is in use`);
            expect(run.stderr).toContain("--port-base");
            expect(run.stdout).not.toMatch(/initdb/);
        } finally {
            await new Promise((resolve) => blocker.close(resolve));
        }
    });
});

describe("Debian packages", () => {
    it("finds the tier's packages installed and names a missing one with its apt-get line", async () => {
        const tier = debianPackages("tier");
        expect(tier).toEqual(expect.arrayContaining(["postgresql-15", "pgbouncer", "gunicorn", "python3-psycopg2"]));
        expect(await missingPackages(tier)).toEqual([]);
        const absent = "receiver-tier-no-such-package";
        const missing = await missingPackages(["pgbouncer", absent]);
        expect(missing).toEqual([absent]);
        expect(aptInstallLine(missing, false)).toMatch(/^sudo apt-get install /);
        // The printed line is a working apt-get command (simulated here, for a package that is installed).
        const simulated = bash(`${aptInstallLine(["pgbouncer"], true)} --simulate`);
        expect(simulated.output).toMatch(/pgbouncer is already the newest version/);
        expect(simulated.status).toBe(0);
    });

    it("scripts/setup.sh and .ci/run pass shellcheck", () => {
        const result = spawnSync("shellcheck", ["scripts/setup.sh", ".ci/run"], { cwd: PROJECT_DIR, encoding: "utf8", timeout: 60_000 });
        expect(result.stdout + result.stderr).toBe("");
        expect(result.status).toBe(0);
    });
});
