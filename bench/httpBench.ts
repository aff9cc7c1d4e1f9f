import { receiverLogins } from "../components/model/logins";
import * as os from "os";
import { receiverRequestCapacity, serverConnectionsPerHost, workerConcurrency } from "../components/model/capacity";
import { hasPlatformSection, TierConfig, tierSchema } from "../components/schema/schema";
import { readStackFile } from "../components/config/stackFile";
import { renderPublicFiles } from "../components/render/tierFiles";
import {
    GunicornProcess,
    loadTierConfig,
    mergeConfig,
    NginxProcess,
    RawConfig,
    receiverSecretEnv,
    Sandbox,
    startGunicorn,
    startNginx,
    startTier,
    Tier,
} from "../harness";
import { PROJECT_DIR } from "../runtime/projectDir";
import { contractLoad, HttpPhaseResult, HttpTarget, inflightLoad, openLoad, SENDER_TIMEOUT_MS } from "./httpLoad";

/** One receiver setup under test: a config variant, whether the app goes through PgBouncer, and whether senders go through nginx. */
interface Variant {
    readonly key: "sync" | "gthread" | "proxied" | "direct";
    readonly label: string;
    readonly cfg: TierConfig;
    readonly direct: boolean;
    readonly proxy: boolean;
}

interface VariantResult {
    readonly variant: Variant;
    /** Requests kept in flight in the second phase: senders x maxInflight. */
    readonly inFlight: number;
    readonly phases: (HttpPhaseResult & { rows: number })[];
}

/**
 * Canary's receiver section and sender contract on the local stack's PostgreSQL and PgBouncer (the
 * harness runs those from the local stack's files). Schema-parsed only: the sync variant is the
 * configuration the sender-capacity rule now refuses, measured to show why.
 */
function canaryVariant(overrides: RawConfig): TierConfig {
    const canary = readStackFile(PROJECT_DIR, "canary").raw as { receiver: RawConfig; sender: RawConfig };
    const local = readStackFile(PROJECT_DIR, "local").raw;
    const cfg = tierSchema.parse(mergeConfig(mergeConfig(local, { receiver: canary.receiver, sender: canary.sender }), overrides));
    if (!hasPlatformSection(cfg)) throw new Error("the local stack's config lacks its platform section");
    return cfg;
}

function describeReceivers(cfg: TierConfig): string {
    const g = cfg.receiver.gunicorn;
    return `${cfg.receiver.instances} x Gunicorn ${g.workers} ${g.worker_class} workers x ${workerConcurrency(cfg)} thread(s), dbPool ${cfg.receiver.dbPool.max} = ${receiverRequestCapacity(cfg)} requests at once`;
}

async function startReceivers(tier: Tier, variant: Variant, stack: string): Promise<Receivers> {
    const files = renderPublicFiles(variant.cfg, stack);
    const gunicorns: GunicornProcess[] = [];
    const proxies: NginxProcess[] = [];
    const sandboxes: Sandbox[] = [];
    try {
        for (let i = 0; i < variant.cfg.receiver.instances; i++) {
            const sandbox = Sandbox.temp("receiver-tier-bench-");
            sandboxes.push(sandbox);
            gunicorns.push(
                await startGunicorn({
                    conf: files["gunicorn.conf.py"],
                    receiverEnv: files["receiver.env"],
                    secretEnv: receiverSecretEnv(variant.cfg, tier.secrets),
                    dbHost: "127.0.0.1",
                    dbPort: variant.direct ? tier.postgres.port : tier.pgbouncer.port,
                    sandbox,
                }),
            );
            const gunicorn = gunicorns[gunicorns.length - 1] as GunicornProcess;
            if (variant.proxy) proxies.push(await startNginx({ conf: files["nginx.conf"], upstreamPort: gunicorn.port, sandbox }));
        }
    } catch (err) {
        await stopReceivers({ gunicorns, proxies, sandboxes, ports: [] });
        throw err;
    }
    return { gunicorns, proxies, sandboxes, ports: (variant.proxy ? proxies : gunicorns).map((p) => p.port) };
}

/** The processes of one setup, and the ports senders post to (nginx's, or Gunicorn's when alone). */
interface Receivers {
    readonly gunicorns: readonly GunicornProcess[];
    readonly proxies: readonly NginxProcess[];
    readonly sandboxes: readonly Sandbox[];
    readonly ports: readonly number[];
}

async function stopReceivers(receivers: Receivers): Promise<void> {
    for (const p of receivers.proxies) await p.stop();
    for (const g of receivers.gunicorns) await g.stop();
    for (const s of receivers.sandboxes) s.remove();
}

async function rowsOf(tier: Tier, cfg: TierConfig, source: string): Promise<number> {
    const [row] = await tier.postgres.query(
        `SELECT count(*)::int AS rows FROM ${cfg.receiverRole.name}.webhook_events WHERE source = $1`,
        cfg.postgres.database,
        [source],
    );
    return (row as { rows: number }).rows;
}

async function measure(tier: Tier, variant: Variant, index: number, seconds: number, senders: number): Promise<VariantResult> {
    const receivers = await startReceivers(tier, variant, "bench");
    try {
        const target: HttpTarget = { ports: receivers.ports, signing: tier.signing };
        const sender = variant.cfg.sender;
        const source = (phase: string) => `bench-${index}-${phase}`;
        const contract = await contractLoad(target, source("contract"), senders, sender, seconds);
        const inFlight = senders * sender.maxInflight;
        const inflight = await inflightLoad(target, source("inflight"), inFlight, seconds);
        // Twice what the receivers just sustained at the contract's full inflight.
        const overload = await openLoad(target, source("overload"), Math.max(1, 2 * inflight.acceptedPerSecond), seconds);
        const phases = [];
        for (const result of [contract, inflight, overload])
            phases.push({ ...result, rows: await rowsOf(tier, variant.cfg, result.source) });
        return { variant, inFlight, phases };
    } finally {
        await stopReceivers(receivers);
    }
}

/** Rounds of the nginx-vs-Gunicorn comparison: each round measures both, in alternating order. */
const PROXY_ROUNDS = 3;

interface ProxyRound {
    readonly alone: HttpPhaseResult;
    readonly proxied: HttpPhaseResult;
}

/**
 * The proxy's cost, measured A/B on the same Gunicorns within seconds of each other (this machine's load
 * drifts more between the variants above than nginx costs): the contract's full inflight straight to
 * Gunicorn and through the rendered nginx in front of it, alternately, PROXY_ROUNDS times.
 */
async function proxyRounds(tier: Tier, variant: Variant, seconds: number, senders: number): Promise<ProxyRound[]> {
    const receivers = await startReceivers(tier, variant, "bench");
    try {
        const inFlight = senders * variant.cfg.sender.maxInflight;
        const direct: HttpTarget = { ports: receivers.gunicorns.map((g) => g.port), signing: tier.signing };
        const proxied: HttpTarget = { ports: receivers.ports, signing: tier.signing };
        const rounds: ProxyRound[] = [];
        for (let round = 0; round < PROXY_ROUNDS; round++) {
            const run = (target: HttpTarget, name: string) => inflightLoad(target, `bench-ab-${round}-${name}`, inFlight, seconds);
            if (round % 2 === 0) {
                const alone = await run(direct, "alone");
                rounds.push({ alone, proxied: await run(proxied, "nginx") });
            } else {
                const viaNginx = await run(proxied, "nginx");
                rounds.push({ alone: await run(direct, "alone"), proxied: viaNginx });
            }
        }
        return rounds;
    } finally {
        await stopReceivers(receivers);
    }
}

function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function proxyTable(rounds: readonly ProxyRound[]): string[] {
    const non202 = (p: HttpPhaseResult) => p.sent - p.accepted;
    const ratios = rounds.map((r) => r.proxied.acceptedPerSecond / r.alone.acceptedPerSecond);
    return [
        "| round | Gunicorn alone 202/s | p99 ms | non-202 | through nginx 202/s | p99 ms | non-202 | nginx / alone |",
        "|---|---|---|---|---|---|---|---|",
        ...rounds.map(
            (r, i) =>
                `| ${i + 1} | ${r.alone.acceptedPerSecond.toFixed(0)} | ${ms(r.alone.p99Ms)} | ${non202(r.alone)} | ${r.proxied.acceptedPerSecond.toFixed(0)} | ${ms(r.proxied.p99Ms)} | ${non202(r.proxied)} | ${(ratios[i] as number).toFixed(2)}x |`,
        ),
        "",
        `through nginx vs Gunicorn alone at the contract's inflight, median of ${rounds.length} A/B rounds: ${median(ratios).toFixed(2)}x accepted/s, p99 ${median(rounds.map((r) => r.proxied.p99Ms / r.alone.p99Ms)).toFixed(2)}x`,
    ];
}

const ms = (value: number) => (Number.isNaN(value) ? "-" : value.toFixed(1));

function statusList(statuses: Readonly<Record<string, number>>): string {
    return Object.entries(statuses)
        .filter(([status]) => status !== "timeout")
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([status, count]) => `${status}: ${count}`)
        .join(", ");
}

function table(results: readonly VariantResult[]): string {
    const rows = results.flatMap(({ variant, phases }) =>
        phases.map(
            (p) =>
                `| ${variant.label} | ${p.phase} | ${p.sent}${p.notSent ? ` (+${p.notSent} not sent)` : ""} | ${p.acceptedPerSecond.toFixed(0)} | ${ms(p.p50Ms)} | ${ms(p.p99Ms)} | ${ms(p.p99AllMs)} | ${statusList(p.statuses)} | ${p.statuses.timeout ?? 0} | ${p.accepted} | ${p.rows} | ${(p.generatorCores * 100).toFixed(0)}% |`,
        ),
    );
    return [
        "| receivers | load | sent | 202/s | p50 ms | p99 ms | p99 ms, every answer | statuses | timeouts | 202s | rows | generator CPU (of one core) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ...rows,
    ].join("\n");
}

/** Findings a reader needs next to the table: acknowledged-but-missing or duplicated rows, and the ratios. */
function summary(results: readonly VariantResult[]): string[] {
    const lines: string[] = [];
    for (const { variant, phases } of results) {
        for (const p of phases) {
            // A request that timed out at the sender may still have committed: rows may exceed 202s by the timeouts, never more.
            const unseen = p.rows - p.accepted;
            if (unseen < 0 || unseen > (p.statuses.timeout ?? 0) + (p.statuses.error ?? 0)) {
                lines.push(`MISMATCH ${variant.label}, ${p.phase}: ${p.accepted} acknowledged, ${p.rows} rows`);
            }
        }
    }
    for (const { variant, inFlight, phases } of results) {
        const full = phases[1];
        if (!full) continue;
        // Little's law: requests in service = throughput x time in service. Beyond the threads, requests wait unserved.
        const inService = Math.min(inFlight, receiverRequestCapacity(variant.cfg));
        const queued = inFlight - inService;
        lines.push(
            `${variant.label}: at ${inFlight} in flight, ${inService} in service / ${full.acceptedPerSecond.toFixed(0)} per s = ${((inService / full.acceptedPerSecond) * 1000).toFixed(0)} ms in service each${queued > 0 ? `; the other ${queued} wait in the listen backlog` : ""}`,
        );
    }
    const phase = (key: Variant["key"], index: number) => results.find((r) => r.variant.key === key)?.phases[index];
    const ratio = (a: HttpPhaseResult, b: HttpPhaseResult) =>
        `${(a.acceptedPerSecond / b.acceptedPerSecond).toFixed(2)}x accepted/s, p99 ${(a.p99Ms / b.p99Ms).toFixed(2)}x`;
    const [sync, threaded, direct] = (["sync", "gthread", "direct"] as const).map((key) => phase(key, 1));
    if (sync && threaded) lines.push(`gthread vs sync at the contract's inflight: ${ratio(threaded, sync)}`);
    if (threaded && direct) lines.push(`through PgBouncer vs straight to PostgreSQL (gthread): ${ratio(threaded, direct)}`);
    for (const key of ["gthread", "proxied"] as const) {
        const overload = phase(key, 2);
        if (overload)
            lines.push(
                `${key === "proxied" ? "through nginx" : "Gunicorn alone"}, open loop at 2x: ${overload.statuses.timeout ?? 0} timeouts, p99 of every answer ${ms(overload.p99AllMs)} ms`,
            );
    }
    if (lines.every((line) => !line.startsWith("MISMATCH")))
        lines.unshift("every run: rows == 202s (rows may exceed them only by requests that timed out)");
    return lines;
}

/** `npm run bench -- --mode http`: HTTP POSTs through real Gunicorn, the reference receiver, PgBouncer and PostgreSQL. */
export async function runHttpBench(seconds: number, senders: number): Promise<string> {
    const canary = canaryVariant({});
    const variants: Variant[] = [
        {
            key: "sync",
            label: "sync (canary before)",
            cfg: canaryVariant({ receiver: { gunicorn: { worker_class: "sync", threads: undefined }, dbPool: { max: 1 } } }),
            direct: false,
            proxy: false,
        },
        { key: "gthread", label: "gthread, Gunicorn alone", cfg: canary, direct: false, proxy: false },
        // As canary's hosts run it: the rendered nginx in front of each Gunicorn.
        { key: "proxied", label: "gthread through nginx (canary now)", cfg: canary, direct: false, proxy: true },
        // The same app and workers; DB_NAME is PostgreSQL's database name when nothing sits in between.
        {
            key: "direct",
            label: "gthread, straight to PostgreSQL",
            cfg: canaryVariant({ pgbouncer: { databaseAlias: canary.postgres.database } }),
            direct: true,
            proxy: false,
        },
    ];
    const directBackends = receiverRequestCapacity(canary) + canary.receiver.instances * canary.receiver.gunicorn.workers;
    // PostgreSQL must admit the direct run's connections next to PgBouncer's server connections.
    const cfg = loadTierConfig("local", { postgres: { maxConnections: directBackends + serverConnectionsPerHost(canary) + 20 } });
    let tier: Tier | undefined;
    try {
        tier = await startTier({ cfg });
        // The login's connection limit (hosts x max_db_connections) protects the real tier; the direct run needs it lifted.
        await tier.postgres.query(`ALTER ROLE ${receiverLogins(cfg).active.name} CONNECTION LIMIT -1`);
        const results: VariantResult[] = [];
        for (const [index, variant] of variants.entries()) results.push(await measure(tier, variant, index, seconds, senders));
        const proxiedVariant = variants.find((v) => v.key === "proxied") as Variant;
        const rounds = await proxyRounds(tier, proxiedVariant, seconds, senders);
        return [
            `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
            `load: ${seconds} s per phase, ${senders} sender(s), signed ~230-byte webhooks, a new connection per request, sender timeout ${SENDER_TIMEOUT_MS / 1000} s, 127.0.0.1`,
            ...variants.map(
                (v) =>
                    `${v.label}: ${describeReceivers(v.cfg)}${v.proxy ? ", nginx in front" : ""}${v.direct ? ", straight to PostgreSQL" : ", through PgBouncer"}`,
            ),
            "",
            table(results),
            "",
            ...summary(results),
            "",
            `${proxiedVariant.label}, A/B on the same Gunicorns at the contract's inflight:`,
            "",
            ...proxyTable(rounds),
            "",
        ].join("\n");
    } finally {
        await tier?.stop();
    }
}
