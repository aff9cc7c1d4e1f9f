import { loginPassword, receiverLogins } from "../components/config/logins";
import * as os from "os";
import { ClientConfig } from "pg";
import { loadTierConfig, startTier, Tier } from "../local";
import { command, integer, Io, main, withDefault } from "./args";
import { BENCH_TABLE_DDL, dedicatedConnections, LoadResult, runLoad, sharedPool } from "./bench/load";

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

export const benchCommand = command({
    spec: {
        name: "bench",
        summary:
            "Starts PostgreSQL and PgBouncer from Debian on 127.0.0.1 with the local stack's rendered files, then runs the same INSERT load three times: through PgBouncer, straight to PostgreSQL with one connection per client, and through an application pool. Prints a markdown table and the ratios (BENCHMARKS.md).",
        options: {
            clients: withDefault("<n>", "concurrent clients per run", integer(1, 500), "500"),
            seconds: withDefault("<s>", "duration of each of the three runs", integer(1, 120), "15"),
        },
        examples: ["npm run -s bench > bench.md", "npm run -s bench -- --clients 100 --seconds 5"],
    },
    run: (values, io) => bench(values.clients, values.seconds, io),
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
        const owner = await tier.receiver();
        await owner.query(BENCH_TABLE_DDL);
        await owner.end();
        const direct: ClientConfig = { ...viaPgbouncer, port: tier.postgres.port, database: cfg.postgres.database };
        const runs = [
            ["through the rendered PgBouncer", () => dedicatedConnections(viaPgbouncer, clients)],
            [`straight to PostgreSQL, ${clients} connections`, () => dedicatedConnections(direct, clients)],
            [`straight to PostgreSQL, app pool of ${poolSize}`, () => sharedPool(direct, clients, poolSize)],
        ] as const;
        const results: LoadResult[] = [];
        for (const [index, [label, clientsOf]] of runs.entries()) {
            io.progress(`run ${index + 1} of ${runs.length} (${seconds} s): ${label}`);
            results.push(await runLoad(label, clients, seconds, clientsOf()));
        }
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
                "",
            ].join("\n"),
        );
        return 0;
    } finally {
        await tier?.stop();
    }
}

if (require.main === module) main(benchCommand);
