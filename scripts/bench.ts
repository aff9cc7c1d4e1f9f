import * as os from "os";
import { ClientConfig } from "pg";
import { loadTierConfig, startTier, Tier } from "../test/integration/harness";
import { parseArgs } from "./args";
import { HTTP_USAGE, runHttpBench } from "./bench/httpBench";
import { BENCH_TABLE_DDL, dedicatedConnections, LoadResult, runLoad, sharedPool } from "./bench/load";

// The benchmark reuses the integration harness: the same rendered files on the real Debian programs.
const USAGE = `npm run bench -- [--mode db] [--clients 500] [--seconds 15]\n       ${HTTP_USAGE}`;

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

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2));
    const mode = args.get("mode") ?? "db";
    if (mode === "http") return httpMain(args);
    if (mode !== "db") throw new Error(`--mode is db or http, not ${mode}\nusage: ${USAGE}`);
    const clients = Number(args.get("clients") ?? 500);
    const seconds = Number(args.get("seconds") ?? 15);
    if (!(clients > 0 && clients <= 500 && seconds > 0 && seconds <= 120))
        throw new Error(`clients 1..500, seconds 1..120\nusage: ${USAGE}`);
    const local = loadTierConfig("local");
    const poolSize = local.pgbouncer.settings.default_pool_size + local.pgbouncer.settings.reserve_pool_size;
    // PostgreSQL must admit the direct run's clients next to PgBouncer's idle server connections.
    const cfg = loadTierConfig("local", { postgres: { maxConnections: clients + poolSize + 20 } });
    let tier: Tier | undefined;
    try {
        tier = await startTier({ cfg });
        const viaPgbouncer: ClientConfig = {
            host: "127.0.0.1",
            port: tier.pgbouncer.port,
            user: cfg.receiverRole.name,
            password: tier.secrets.receiverPassword,
            database: cfg.pgbouncer.databaseAlias,
        };
        // The role's connection limit (hosts x max_db_connections) protects the real tier; the direct
        // runs measure what happens without PgBouncer, so they need it lifted.
        await tier.postgres.query(`ALTER ROLE ${cfg.receiverRole.name} CONNECTION LIMIT -1`);
        const owner = await tier.receiver();
        await owner.query(BENCH_TABLE_DDL);
        await owner.end();
        const direct: ClientConfig = { ...viaPgbouncer, port: tier.postgres.port, database: cfg.postgres.database };
        const results = [
            await runLoad("through the rendered PgBouncer", clients, seconds, dedicatedConnections(viaPgbouncer, clients)),
            await runLoad(`straight to PostgreSQL, ${clients} connections`, clients, seconds, dedicatedConnections(direct, clients)),
            await runLoad(`straight to PostgreSQL, app pool of ${poolSize}`, clients, seconds, sharedPool(direct, clients, poolSize)),
        ];
        const [bouncer, many, pooled] = results as [LoadResult, LoadResult, LoadResult];
        process.stdout.write(
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
    } finally {
        await tier?.stop();
    }
}

async function httpMain(args: Map<string, string>): Promise<void> {
    const seconds = Number(args.get("seconds") ?? 5);
    const senders = Number(args.get("senders") ?? 1);
    if (!(Number.isInteger(seconds) && seconds >= 1 && seconds <= 30 && Number.isInteger(senders) && senders >= 1 && senders <= 10))
        throw new Error(`seconds 1..30, senders 1..10\nusage: ${HTTP_USAGE}`);
    process.stdout.write(await runHttpBench(seconds, senders));
}

main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
});
