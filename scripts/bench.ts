import { loginPassword, receiverLogins } from "../components/model/logins";
import * as os from "os";
import { ClientConfig } from "pg";
import { loadTierConfig, startTier, Tier } from "../harness";
import { command, integer, Io, main, oneOf, optional, UsageError, withDefault } from "./args";
import { runHttpBench } from "../bench/httpBench";
import { benchTableDdl, dedicatedConnections, LoadResult, runLoad, sharedPool } from "../bench/load";

// The benchmark reuses the integration harness: the same rendered files on the real Debian programs.

function table(results: readonly LoadResult[]): string {
    const rows = results.map(
        (r) =>
            `| ${r.label} | ${r.clients} | ${r.transactions} | ${r.tps.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} | ${r.connectErrors} |`,
    );
    return [
        "| run | clients | inserts | inserts/s | p50 ms | p99 ms | errors | failed connects |",
        "|---|---|---|---|---|---|---|---|",
        ...rows,
    ].join("\n");
}

/** Seconds per run and their bounds, per mode: the HTTP mode runs nine phases, the database mode three runs. */
const SECONDS = { db: { default: 15, max: 120 }, http: { default: 5, max: 30 } } as const;

export const benchCommand = command({
    spec: {
        name: "bench",
        summary:
            "Starts PostgreSQL and PgBouncer (and, with --mode http, Gunicorn with the reference receiver) from Debian on 127.0.0.1 with the rendered files. --mode db runs the same INSERT load through PgBouncer, straight to PostgreSQL with one connection per client, and through an application pool; --mode http posts signed webhooks shaped like the sender contract, then an overload at 2x, through sync and gthread workers and a direct-to-PostgreSQL baseline. Prints markdown tables and the ratios (BENCHMARKS.md).",
        options: {
            mode: withDefault("<db|http>", "what to measure", oneOf(["db", "http"] as const), "db"),
            clients: withDefault("<n>", "--mode db: concurrent clients per run", integer(1, 500), "500"),
            seconds: optional(
                "<s>",
                `seconds per run (db: default ${SECONDS.db.default}, at most ${SECONDS.db.max}; http: default ${SECONDS.http.default}, at most ${SECONDS.http.max})`,
                integer(1, 120),
            ),
            senders: withDefault("<n>", "--mode http: senders, each held to the sender contract", integer(1, 10), "1"),
        },
        examples: [
            "npm run -s bench > bench.md",
            "npm run -s bench -- --clients 100 --seconds 5",
            "npm run -s bench -- --mode http >> BENCHMARKS.md",
        ],
    },
    run: async (values, io) => {
        const limits = SECONDS[values.mode];
        const seconds = values.seconds ?? limits.default;
        if (seconds > limits.max)
            throw new UsageError(`--seconds must be at most ${limits.max} with --mode ${values.mode}, got ${seconds}`);
        if (values.mode === "db") return bench(values.clients, seconds, io);
        io.stdout(await runHttpBench(seconds, values.senders));
        return 0;
    },
});

async function bench(clients: number, seconds: number, io: Io): Promise<number> {
    const local = loadTierConfig("local");
    const poolSize = local.pgbouncer.settings.default_pool_size + local.pgbouncer.settings.reserve_pool_size;
    // PostgreSQL must admit the direct run's clients next to PgBouncer's idle server connections.
    const cfg = loadTierConfig("local", { postgres: { maxConnections: clients + poolSize + 20 } });
    const login = receiverLogins(cfg).active;
    let tier: Tier | undefined;
    try {
        io.progress("starting PostgreSQL and PgBouncer on 127.0.0.1");
        tier = await startTier({ cfg });
        const viaPgbouncer: ClientConfig = {
            host: "127.0.0.1",
            port: tier.pgbouncer.port,
            user: login.name,
            password: loginPassword(tier.secrets, login),
            database: cfg.pgbouncer.databaseAlias,
        };
        // The role's connection limit (hosts x max_db_connections) protects the real tier; the direct
        // runs measure what happens without PgBouncer, so they need it lifted.
        await tier.postgres.query(`ALTER ROLE ${login.name} CONNECTION LIMIT -1`);
        // The logins may not create tables (least privilege): the superuser makes the bench table for them.
        await tier.postgres.query(benchTableDdl(cfg.receiverRole.name), cfg.postgres.database);
        const direct: ClientConfig = { ...viaPgbouncer, port: tier.postgres.port, database: cfg.postgres.database };
        const runs = [
            ["through the rendered PgBouncer", () => dedicatedConnections(viaPgbouncer, clients)],
            [`straight to PostgreSQL, ${clients} connections`, () => dedicatedConnections(direct, clients)],
            [`straight to PostgreSQL, app pool of ${poolSize}`, () => sharedPool(direct, clients, poolSize)],
        ] as const;
        const results: LoadResult[] = [];
        for (const [index, [label, clientsOf]] of runs.entries()) {
            io.progress(`run ${index + 1} of ${runs.length + 1} (${seconds} s): ${label}`);
            results.push(await runLoad(label, clients, seconds, clientsOf()));
        }
        // The cost of server_reset_query (DISCARD ALL after every transaction): the same PgBouncer reloaded without it.
        await tier.pgbouncer.reload(withoutServerReset(tier.files["pgbouncer.ini"]));
        const unreset = "through PgBouncer without server_reset_query";
        io.progress(`run ${runs.length + 1} of ${runs.length + 1} (${seconds} s): ${unreset}`);
        const withoutReset = await runLoad(unreset, clients, seconds, dedicatedConnections(viaPgbouncer, clients));
        results.push(withoutReset);
        const [bouncer, many, pooled] = results as [LoadResult, LoadResult, LoadResult];
        io.stdout(
            [
                `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
                `load: ${clients} clients, ${seconds} s each, one INSERT of a webhook per transaction, 127.0.0.1`,
                "",
                table(results),
                "",
                `PgBouncer vs ${clients} direct connections: ${(bouncer.tps / many.tps).toFixed(2)}x throughput, p99 ${(bouncer.p99Ms / many.p99Ms).toFixed(2)}x`,
                `PgBouncer vs app pool of ${poolSize}: ${(bouncer.tps / pooled.tps).toFixed(2)}x throughput, p99 ${(bouncer.p99Ms / pooled.p99Ms).toFixed(2)}x`,
                `server_reset_query (DISCARD ALL) on vs off: ${(bouncer.tps / withoutReset.tps).toFixed(2)}x throughput, p99 ${(bouncer.p99Ms / withoutReset.p99Ms).toFixed(2)}x`,
                "",
            ].join("\n"),
        );
        return 0;
    } finally {
        await tier?.stop();
    }
}

/** The rendered ini with server_reset_query_always off: transaction mode then runs no reset query. */
export function withoutServerReset(ini: string): string {
    return ini.replace(/^server_reset_query_always = 1$/m, "server_reset_query_always = 0");
}

if (require.main === module) main(benchCommand);
