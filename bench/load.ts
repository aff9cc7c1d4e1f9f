import { Client, ClientConfig, Pool } from "pg";

/** One load run's numbers. */
export interface LoadResult {
    readonly label: string;
    readonly clients: number;
    readonly seconds: number;
    readonly transactions: number;
    readonly errors: number;
    readonly tps: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly connectErrors: number;
}

/** The load's callers, one per simulated client, and how to release their connections. */
export interface LoadTarget {
    readonly callers: ((source: string, payload: string) => Promise<unknown>)[];
    readonly connectErrors: number;
    close(): Promise<void>;
}

/** The benchmark's table in the receivers' schema (first on their search_path), for a superuser to create. */
export function benchTableDdl(schema: string): string {
    return [
        `CREATE TABLE IF NOT EXISTS "${schema}".bench_events (id bigserial PRIMARY KEY, source text NOT NULL, payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now());`,
        `GRANT INSERT ON "${schema}".bench_events TO "${schema}";`,
        `GRANT USAGE ON SEQUENCE "${schema}".bench_events_id_seq TO "${schema}";`,
    ].join("\n");
}
const INSERT = "INSERT INTO bench_events (source, payload) VALUES ($1, $2)";

function percentile(sorted: readonly number[], p: number): number {
    if (sorted.length === 0) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** `clients` connections of their own (through PgBouncer, or straight to PostgreSQL). */
export function dedicatedConnections(config: ClientConfig, clients: number) {
    return async (): Promise<LoadTarget> => {
        const settled = await Promise.allSettled(
            Array.from({ length: clients }, async () => {
                const client = new Client({ ...config, connectionTimeoutMillis: 15_000 });
                await client.connect();
                return client;
            }),
        );
        const connected = settled.filter((s): s is PromiseFulfilledResult<Client> => s.status === "fulfilled").map((s) => s.value);
        return {
            callers: connected.map((client) => (source: string, payload: string) => client.query(INSERT, [source, payload])),
            connectErrors: clients - connected.length,
            close: async () => void (await Promise.all(connected.map((client) => client.end().catch(() => undefined)))),
        };
    };
}

/** `clients` callers sharing an application-side pool of `poolSize` persistent connections. */
export function sharedPool(config: ClientConfig, clients: number, poolSize: number) {
    return async (): Promise<LoadTarget> => {
        const pool = new Pool({ ...config, max: poolSize, connectionTimeoutMillis: 15_000 });
        const insert = (source: string, payload: string) => pool.query(INSERT, [source, payload]);
        return { callers: Array.from({ length: clients }, () => insert), connectErrors: 0, close: () => pool.end() };
    };
}

/**
 * Every client inserts webhooks back to back for `seconds` (bounded in time; the count follows).
 * Latency is measured per insert, waiting for a pooled connection included.
 */
export async function runLoad(label: string, clients: number, seconds: number, connect: () => Promise<LoadTarget>): Promise<LoadResult> {
    const target = await connect();
    const latencies: number[] = [];
    let errors = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const payload = JSON.stringify({ event: "bench", body: "x".repeat(200) });
    await Promise.all(
        target.callers.map(async (insert, index) => {
            while (performance.now() < deadline) {
                const t0 = performance.now();
                try {
                    await insert(`bench-${index % 16}`, payload);
                    latencies.push(performance.now() - t0);
                } catch {
                    errors++;
                }
            }
        }),
    );
    const elapsed = (performance.now() - started) / 1000;
    await target.close();
    latencies.sort((a, b) => a - b);
    return {
        label,
        clients,
        seconds: elapsed,
        transactions: latencies.length,
        errors,
        tps: latencies.length / elapsed,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        connectErrors: target.connectErrors,
    };
}
