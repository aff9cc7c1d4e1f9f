import * as path from "path";
import { parseTierConfig } from "../components/config/load";
import { formatProblems } from "../components/schema/problems";
import { readStackFile, readTierSecrets } from "../components/config/stackFile";
import { TierConfig } from "../components/schema/schema";
import { postgresEndpoint, renderEndpoints } from "../components/model/endpoints";
import {
    aptInstallLine,
    debianPackages,
    isAlive,
    mergeConfig,
    missingPackages,
    startTier,
    StateDirInUse,
    stateDirOwner,
    Tier,
    tierInventory,
    waitFor,
} from "../harness";
import { PROJECT_DIR } from "../runtime/projectDir";
import { LocalStackOutputs, localStackOutputs } from "../components/model/outputs";
import { formatStackOutputs, tryItCommands } from "../harness/tryIt";
import { busyPorts, portBaseOverrides, publishedPorts } from "../harness/publishedPorts";
import { command, flag, integer, main, optional, text, withDefault } from "./args";
import { LOCAL_INVENTORY, SWITCHOVER_INVENTORY } from "./switchover";
import { writeInventory } from "../switchover/inventory";

// package.json starts this with `exec node`: npm passes a SIGTERM on to its shell, which would
// otherwise end alone and leave the tier running.

const STACK = "local";
const HEALTH_TIMEOUT_MS = 60_000;
/** Exit status when another run holds the state dir. */
const ALREADY_RUNNING = 2;

export const localCommand = command({
    spec: {
        name: "local",
        summary: `Runs the ${STACK} stack's tier (PostgreSQL, PgBouncer, Gunicorn with the reference receiver behind nginx) on 127.0.0.1 from its rendered files, in the foreground until Ctrl-C or SIGTERM, and prints the stack's outputs.`,
        options: {
            "port-base": optional(
                "<N>",
                "PostgreSQL on N, PgBouncer on N+1, nginx (in front of Gunicorn) on N+2 instead of the stack's published ports",
                integer(1024, 65533),
            ),
            "state-dir": withDefault(
                "<dir>",
                "where the database lives between runs",
                text,
                path.join(PROJECT_DIR, ".local-tier"),
                ".local-tier in the project",
            ),
            fresh: flag("start from an empty database and delete it again at exit"),
            standby: flag(
                `also a synchronous streaming standby (PostgreSQL on a free port), and the inventory npm run switchover drives (switchover.json in the state dir); the pair lives for this run only, as with --fresh`,
            ),
        },
        examples: ["npm run -s local", "npm run -s local -- --port-base 25432 --fresh", "npm run -s local -- --standby"],
        exitCodes: [
            "1  a program failed to start or exited on its own",
            `${ALREADY_RUNNING}  another run holds the state dir (also: usage error)`,
        ],
    },
    async run(values) {
        try {
            return await runLocal({
                portBase: values["port-base"],
                stateDir: path.resolve(values["state-dir"]),
                // A switched-over pair cannot be restarted as it was: its old primary is stopped and diverged.
                fresh: values.fresh || values.standby,
                standby: values.standby,
            });
        } catch (err) {
            if (!(err instanceof StateDirInUse)) throw err;
            process.stderr.write(
                `local: already running (pid ${err.pid}, state dir ${err.dir}); stop it with Ctrl-C in its terminal or \`kill ${err.pid}\`\n`,
            );
            return ALREADY_RUNNING;
        }
    },
});

interface Options {
    readonly portBase: number | undefined;
    readonly stateDir: string;
    readonly fresh: boolean;
    readonly standby: boolean;
}

const say = (line: string) => process.stdout.write(`local: ${line}\n`);

/** Resolves with the signal that asks the tier to stop; installed first, so no signal kills us mid-start. */
function stopRequested(): Promise<NodeJS.Signals> {
    return new Promise((resolve) => {
        for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => resolve(signal));
    });
}

/** Resolves with a line naming the first of the tier's programs that ended on its own. */
function unexpectedExit(tier: Tier): Promise<string> {
    const programs: [string, () => boolean][] = [
        // After a switchover the standby is the primary and the old one is stopped.
        ["PostgreSQL", () => tier.postgres.pid() !== undefined || tier.standby?.pid() !== undefined],
        ["PgBouncer", () => tier.pgbouncer.alive()],
        ["Gunicorn", () => tier.gunicorn !== undefined && isAlive(tier.gunicorn.pid)],
        ["nginx", () => tier.proxy !== undefined && isAlive(tier.proxy.pid)],
    ];
    return new Promise((resolve) => {
        const timer = setInterval(() => {
            const gone = programs.find(([, alive]) => !alive());
            if (gone) {
                clearInterval(timer);
                resolve(`${gone[0]} exited on its own`);
            }
        }, 1000);
        timer.unref();
    });
}

async function healthy(url: string): Promise<true | undefined> {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as { status?: string };
    return response.status === 200 && body.status === "healthy" ? true : undefined;
}

/** Waits for a healthy health endpoint, then returns the stack's outputs. */
async function untilReady(tier: Tier, cfg: TierConfig, started: number): Promise<LocalStackOutputs> {
    const { healthUrl } = renderEndpoints(cfg);
    say(`health: waiting for ${healthUrl}`);
    await waitFor(`a healthy ${healthUrl}`, HEALTH_TIMEOUT_MS, () => healthy(healthUrl), 250);
    say(`health: healthy, ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const pg = tier.postgres;
    const database = cfg.postgres.database;
    const admin = { host: pg.host, port: pg.port, user: pg.superuser, password: pg.superuserPassword, database, sslmode: "disable" };
    // The module defines the Pulumi dynamic provider: loaded only when a tier is up.
    const { readDatabaseSetting } = await import("../components/postgres/databaseSetting");
    const statementTimeout = await readDatabaseSetting(admin, database, "statement_timeout");
    return localStackOutputs(cfg, statementTimeout ?? "(not set)");
}

async function runLocal(options: Options): Promise<number> {
    const stop = stopRequested();
    const missing = await missingPackages(debianPackages("tier"));
    if (missing.length > 0) {
        process.stderr.write(
            `local: missing Debian packages: ${missing.join(", ")}\ninstall them with:\n  ${aptInstallLine(missing)}\n` +
                "or run `bash scripts/setup.sh`, which installs whatever the project needs\n",
        );
        return 1;
    }
    const owner = stateDirOwner(options.stateDir);
    if (owner !== undefined) throw new StateDirInUse(options.stateDir, owner);

    const stackFile = readStackFile(PROJECT_DIR, STACK);
    const raw = options.portBase === undefined ? stackFile.raw : mergeConfig(stackFile.raw, portBaseOverrides(options.portBase));
    const { config: cfg, warnings } = parseTierConfig(raw);
    if (cfg.platform !== "docker") throw new Error(`Pulumi.${STACK}.yaml must have platform: docker for a tier on this machine`);
    if (warnings.length > 0) process.stderr.write(`warnings:\n${formatProblems(warnings)}\n`);
    const secrets = readTierSecrets(stackFile, STACK, process.env, cfg.platform);
    const busy = await busyPorts(cfg, options.stateDir);
    if (busy.length > 0) {
        process.stderr.write(`local: ${busy.join("\nlocal: ")}\nstop what listens there, or pass --port-base N to use N, N+1 and N+2\n`);
        return 1;
    }

    const started = Date.now();
    say(`stack ${STACK}: rendering its files; state in ${options.stateDir}${options.fresh ? " (--fresh: starting empty)" : ""}`);
    const tier = await startTier({
        cfg,
        secrets,
        stack: STACK,
        gunicorn: true,
        stateDir: { dir: options.stateDir, keepData: !options.fresh },
        ports: publishedPorts(cfg),
        // Unlike a test's throwaway cluster, this one keeps webhooks across runs: keep it crash-safe.
        postgresSettings: { fsync: "on", full_page_writes: "on" },
        standby: options.standby,
        progress: say,
    });
    let exitCode = 0;
    try {
        if (options.standby) {
            const inventoryFile = path.join(options.stateDir, SWITCHOVER_INVENTORY);
            writeInventory(inventoryFile, tierInventory(tier, STACK));
            const flag = inventoryFile === path.join(PROJECT_DIR, LOCAL_INVENTORY) ? "" : ` --inventory ${inventoryFile}`;
            say(`standby streaming synchronously; try: npm run switchover -- --stack ${STACK}${flag}`);
        }
        const ready = untilReady(tier, cfg, started);
        ready.catch(() => undefined); // when a stop request wins the race, a later failure is moot
        const outputs = await Promise.race([ready, stop.then(() => undefined)]);
        if (outputs) {
            const verifyFlags =
                options.portBase === undefined
                    ? ""
                    : ` --pgbouncer ${outputs.pgbouncerEndpoint} --postgres ${postgresEndpoint(cfg)} --health-url ${outputs.healthUrl}`;
            process.stdout.write(
                [
                    "",
                    formatStackOutputs(outputs),
                    "",
                    "Try it:",
                    ...tryItCommands(cfg, outputs, `npm run verify -- --stack ${STACK}${verifyFlags}`).map((line) => `    ${line}`),
                    "",
                    `Running in the foreground (pid ${process.pid}); Ctrl-C or SIGTERM stops PostgreSQL, PgBouncer, Gunicorn and nginx.`,
                    "",
                ].join("\n"),
            );
        }
        const ended = await Promise.race([
            stop.then((signal) => ({ why: `${signal} received`, asked: true })),
            unexpectedExit(tier).then((why) => ({ why, asked: false })),
        ]);
        if (!ended.asked) exitCode = 1;
        say(`stopping (${ended.why}): nginx, Gunicorn, PgBouncer, PostgreSQL`);
    } finally {
        await tier.stop();
    }
    say(
        options.fresh
            ? `stopped; ${options.stateDir} emptied (--fresh)`
            : `stopped; the database stays in ${options.stateDir} for the next run (--fresh discards it)`,
    );
    return exitCode;
}

if (require.main === module) main(localCommand);
