import * as net from "net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTierConfig, postWebhook, sleep, startTier, Tier } from "../../harness";
import { nginxTest, writeNginxConf } from "../../harness/nginx";
import { freePort, Sandbox, TEST_SECRETS } from "../../harness";
import { renderTierFiles } from "../../components/render/tierFiles";

// Issue 21: the receiver path holds under slow clients. The rendered nginx in front of a canary-shaped
// Gunicorn (2 gthread workers x 32 threads) reads whole requests before a thread sees them, so slow
// headers and slow bodies, each at least twice the threads, cost Gunicorn nothing while signed
// deliveries keep getting 202 fast; framing it cannot read is a 4xx from nginx, never a 500.

const THREADS = 32;
const WORKERS = 2;
/** At least twice the receivers' threads of each kind. */
const SLOW = 2 * WORKERS * THREADS;
const DELIVERIES = 60;
/** Generous for two shared cores, and still far below a sender's timeout. */
const P99_MS = 1000;

/** A connection that trickles a request (header or body) one byte every `everyMs`, never finishing. */
function trickle(port: number, head: string, drip: string, everyMs: number): net.Socket {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    socket.write(head);
    let i = 0;
    const timer = setInterval(() => {
        if (socket.destroyed) return clearInterval(timer);
        socket.write(drip[i++ % drip.length] as string);
    }, everyMs);
    socket.on("close", () => clearInterval(timer));
    return socket;
}

/** One raw request; resolves with the status line's code (0 when nginx closed without an answer). */
function rawStatus(port: number, request: string): Promise<number> {
    return new Promise((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        let data = "";
        const done = () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0));
        socket.setTimeout(10_000, () => socket.destroy());
        socket.on("data", (chunk) => (data += chunk.toString()));
        socket.on("close", done);
        socket.on("error", () => undefined);
        socket.end(request);
    });
}

describe("slow clients and malformed framing through the rendered nginx", () => {
    const cfg = loadTierConfig("local", {
        receiver: { gunicorn: { workers: WORKERS, worker_class: "gthread", threads: THREADS }, dbPool: { max: THREADS } },
    });
    let tier: Tier;
    let port: number;
    const slow: net.Socket[] = [];

    beforeAll(async () => {
        tier = await startTier({ cfg, gunicorn: true });
        port = tier.proxy?.port ?? 0;
        expect((await postWebhook({ port, signing: tier.signing, source: "slow", body: "{}" })).status).toBe(202);
    }, 120_000);
    afterAll(async () => {
        for (const s of slow) s.destroy();
        await tier?.stop();
    });

    it(`serves signed deliveries with 202, p99 < ${P99_MS} ms, while ${SLOW} slow-header and ${SLOW} slow-body connections are open`, async () => {
        for (let i = 0; i < SLOW; i++) {
            slow.push(trickle(port, "POST /webhooks/slow HTTP/1.1\r\nHost: x\r\n", "X-Slow: aaaa\r\n", 500));
            slow.push(
                trickle(
                    port,
                    `POST /webhooks/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"a":"`,
                    "x",
                    500,
                ),
            );
        }
        await sleep(1500); // every slow connection accepted and trickling
        const latencies: number[] = [];
        const statuses: number[] = [];
        // A few senders at a time, over several seconds, so the slow connections stay open throughout.
        for (let round = 0; round < DELIVERIES / 6; round++) {
            await Promise.all(
                Array.from({ length: 6 }, async () => {
                    const t0 = performance.now();
                    const res = await postWebhook({
                        port,
                        signing: tier.signing,
                        source: "slow",
                        body: JSON.stringify({ round }),
                        timeoutMs: 10_000,
                    });
                    latencies.push(performance.now() - t0);
                    statuses.push(res.status);
                }),
            );
            await sleep(100);
        }
        latencies.sort((a, b) => a - b);
        const p99 = latencies[Math.min(latencies.length - 1, Math.floor(0.99 * latencies.length))] as number;
        expect(statuses).toEqual(Array(DELIVERIES).fill(202));
        expect(p99).toBeLessThan(P99_MS);
        // The slow connections were still open (not refused) while the deliveries went through.
        expect(slow.filter((s) => !s.destroyed).length).toBeGreaterThan(SLOW);
    }, 120_000);

    it("ends slow headers at client_header_timeout, with no thread spent on them", async () => {
        await sleep((cfg.receiver.nginx.client_header_timeout + 2) * 1000);
        const headers = slow.filter((_, i) => i % 2 === 0);
        expect(headers.filter((s) => !s.destroyed && s.readyState === "open").length).toBe(0);
    }, 60_000);

    for (const [what, request] of [
        [
            "Transfer-Encoding: gzip, chunked",
            "POST /webhooks/slow HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        ],
        [
            "Content-Length and Transfer-Encoding together",
            "POST /webhooks/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        ],
        ["two different Content-Lengths", "POST /webhooks/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"],
    ] as const) {
        it(`refuses ${what} with a 4xx, never a 500`, async () => {
            const status = await rawStatus(port, request);
            expect(status).toBeGreaterThanOrEqual(400);
            expect(status).toBeLessThan(500);
        });
    }
});

describe("nginx -t and the rendered nginx.conf", () => {
    for (const stack of ["local", "canary", "prod"]) {
        it(`accepts ${stack}'s (only listen, the upstream's port and paths rewritten)`, async () => {
            const sandbox = Sandbox.temp();
            const [listen, upstream] = [await freePort(), await freePort()]; // nginx -t binds its listen port
            try {
                const conf = renderTierFiles(loadTierConfig(stack), TEST_SECRETS, stack)["nginx.conf"];
                const result = await nginxTest(sandbox, writeNginxConf(sandbox, conf, listen, upstream));
                expect(result.stderr).toMatch(/test is successful/);
                expect(result.code).toBe(0);
                // And the check can fail: an unknown directive is refused.
                const broken = await nginxTest(
                    sandbox,
                    writeNginxConf(
                        sandbox,
                        conf.replace("server_tokens off;", "server_tokens off;\n    no_such_directive 1;"),
                        listen,
                        upstream,
                    ),
                );
                expect(broken.code).not.toBe(0);
            } finally {
                sandbox.remove();
            }
        });
    }
});
