import * as http from "http";
import { signedHeaders, WebhookSigning } from "../harness";
import { NGINX_BUSY_MESSAGE } from "../components/render/nginxConf";

/** How long a sender waits for an answer before it counts the request as timed out (and would retry). */
export const SENDER_TIMEOUT_MS = 10_000;
/** Open-loop requests outstanding at most, so the load generator itself never runs out of sockets. */
export const MAX_OUTSTANDING = 3000;

/** The receivers under test: one port per Gunicorn (one per receiver instance), requests spread round-robin like the ALB. */
export interface HttpTarget {
    readonly ports: readonly number[];
    readonly signing: WebhookSigning;
}

/** One load phase's numbers. `rows` is filled in afterwards from the database. */
export interface HttpPhaseResult {
    readonly phase: string;
    readonly source: string;
    /** From the first request to the last answer (the load's seconds plus draining what was still open). */
    readonly seconds: number;
    readonly sent: number;
    readonly accepted: number;
    readonly acceptedPerSecond: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    /** p99 over every HTTP answer (202, 503, ...): what "answered within 1 s" is measured by. */
    readonly p99AllMs: number;
    /** Count per HTTP status; "timeout" and "error" (no HTTP answer) separately. */
    readonly statuses: Readonly<Record<string, number>>;
    /** Requests the open loop could not send because MAX_OUTSTANDING were already open. */
    readonly notSent: number;
    /** CPU the load generator used during the phase, as a fraction of one core. */
    readonly generatorCores: number;
}

const PAYLOAD = JSON.stringify({ event: "bench", body: "x".repeat(200) });

function percentile(sorted: readonly number[], p: number): number {
    if (sorted.length === 0) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Collects outcomes of one phase; every request is a new signed delivery of `source`. */
class Phase {
    private readonly latencies: number[] = [];
    private readonly answerLatencies: number[] = [];
    private readonly statuses: Record<string, number> = {};
    private readonly pending = new Set<Promise<void>>();
    private readonly startedAt = performance.now();
    private readonly cpuAtStart = process.cpuUsage();
    private sent = 0;
    notSent = 0;

    constructor(
        private readonly target: HttpTarget,
        readonly name: string,
        readonly source: string,
    ) {}

    get outstanding(): number {
        return this.pending.size;
    }

    /** Starts one request; the returned promise settles when it is answered, failed or timed out. */
    send(): Promise<void> {
        const n = this.sent++;
        const port = this.target.ports[n % this.target.ports.length] as number;
        const headers = signedHeaders(this.target.signing, this.source, PAYLOAD, { deliveryId: `${this.source}-${n}` });
        const t0 = performance.now();
        const done = post(port, this.source, headers).then((outcome) => {
            this.statuses[outcome] = (this.statuses[outcome] ?? 0) + 1;
            const ms = performance.now() - t0;
            if (outcome === "202") this.latencies.push(ms);
            if (/^\d{3}/.test(outcome)) this.answerLatencies.push(ms);
            this.pending.delete(done);
        });
        this.pending.add(done);
        return done;
    }

    async finish(): Promise<HttpPhaseResult> {
        await Promise.all(this.pending);
        const cpu = process.cpuUsage(this.cpuAtStart);
        const wallSeconds = (performance.now() - this.startedAt) / 1000;
        const sorted = [...this.latencies].sort((a, b) => a - b);
        return {
            phase: this.name,
            source: this.source,
            seconds: wallSeconds,
            sent: this.sent,
            accepted: sorted.length,
            acceptedPerSecond: sorted.length / wallSeconds,
            p50Ms: percentile(sorted, 50),
            p99Ms: percentile(sorted, 99),
            p99AllMs: percentile(
                [...this.answerLatencies].sort((a, b) => a - b),
                99,
            ),
            statuses: this.statuses,
            notSent: this.notSent,
            generatorCores: (cpu.user + cpu.system) / 1e6 / wallSeconds,
        };
    }
}

/** One signed POST, Connection: close (as Gunicorn's sync workers answer anyway); its status or "timeout"/"error". */
function post(port: number, source: string, headers: Record<string, string>): Promise<string> {
    return new Promise((resolve) => {
        const request = http.request(
            {
                host: "127.0.0.1",
                port,
                method: "POST",
                path: `/webhooks/${source}`,
                agent: false,
                headers: {
                    ...headers,
                    Connection: "close",
                    "Content-Type": "application/json",
                    "Content-Length": Buffer.byteLength(PAYLOAD),
                },
            },
            (res) => {
                let body = "";
                res.on("data", (chunk: Buffer) => (body += chunk.toString()));
                // nginx's own 503 (the upstream's max_conns reached) apart from the app's (a database wait).
                res.on("end", () =>
                    resolve(res.statusCode === 503 && body.includes(NGINX_BUSY_MESSAGE) ? "503 shed" : String(res.statusCode)),
                );
                res.on("error", () => resolve("error"));
            },
        );
        let timedOut = false;
        request.setTimeout(SENDER_TIMEOUT_MS, () => {
            timedOut = true;
            request.destroy();
        });
        request.on("error", () => resolve(timedOut ? "timeout" : "error"));
        request.end(PAYLOAD);
    });
}

export interface SenderContract {
    readonly maxQps: number;
    readonly burstLimit: number;
    readonly maxInflight: number;
}

/**
 * `senders` senders, each as the contract allows: a token bucket of burstLimit refilled at maxQps
 * per second, and at most maxInflight requests open. Closed-loop on the inflight limit.
 */
export async function contractLoad(target: HttpTarget, source: string, senders: number, contract: SenderContract, seconds: number) {
    const phase = new Phase(
        target,
        `sender contract: ${senders} x (${contract.maxQps}/s, burst ${contract.burstLimit}, ${contract.maxInflight} in flight)`,
        source,
    );
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(
        Array.from({ length: senders }, async () => {
            let tokens = contract.burstLimit;
            let refilledAt = performance.now();
            const open = new Set<Promise<void>>();
            while (performance.now() < deadline) {
                const now = performance.now();
                tokens = Math.min(contract.burstLimit, tokens + ((now - refilledAt) / 1000) * contract.maxQps);
                refilledAt = now;
                if (tokens < 1) {
                    await sleep(((1 - tokens) / contract.maxQps) * 1000);
                } else if (open.size >= contract.maxInflight) {
                    await Promise.race(open);
                } else {
                    tokens -= 1;
                    const done = phase.send().then(() => void open.delete(done));
                    open.add(done);
                }
            }
        }),
    );
    return phase.finish();
}

/** `concurrency` requests always in flight, each sent as soon as the previous one is answered. */
export async function inflightLoad(target: HttpTarget, source: string, concurrency: number, seconds: number) {
    const phase = new Phase(target, `${concurrency} in flight, back to back`, source);
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(
        Array.from({ length: concurrency }, async () => {
            while (performance.now() < deadline) await phase.send();
        }),
    );
    return phase.finish();
}

/** Requests at a fixed rate whatever the answers (open loop), bounded by MAX_OUTSTANDING. */
export async function openLoad(target: HttpTarget, source: string, perSecond: number, seconds: number) {
    const phase = new Phase(target, `open loop at ${Math.round(perSecond)}/s`, source);
    const started = performance.now();
    const total = Math.round(perSecond * seconds);
    for (let n = 0; n < total;) {
        const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * perSecond) + 1);
        for (; n < due; n++) {
            if (phase.outstanding >= MAX_OUTSTANDING) phase.notSent++;
            else void phase.send();
        }
        await sleep(1);
    }
    return phase.finish();
}
