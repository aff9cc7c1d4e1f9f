import { statsLogins } from "../../components/model/logins";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    endQuietly,
    httpRequest,
    HttpResponse,
    loadTierConfig,
    postWebhook,
    rowsOf,
    signedHeaders,
    sleep,
    startTier,
    Tier,
    timed,
    waitFor,
} from "../../harness";

// Property 13: the reference receiver on the real Gunicorn/PgBouncer/PostgreSQL. A repeated delivery
// stores one row; unsigned, wrongly signed or stale requests get 401; every malformed body a 4xx with
// a reason and no row; a database timeout or a saturated pool a 503 with Retry-After; the health
// check answers well inside the ALB's 5 s while PgBouncer's pool is saturated, on a held console
// connection.

/** The ALB's health-check timeout. */
const ALB_HEALTH_TIMEOUT_SECONDS = 5;
const MAX_BODY_BYTES = 4096;

describe("reference receiver hardening", () => {
    // One gthread worker with 4 threads and a pool of 2: two threads can hold the pool while a third
    // serves the health check. Small body cap so "over the cap" is a small request.
    const cfg = loadTierConfig("local", {
        receiver: {
            gunicorn: { workers: 1, worker_class: "gthread", threads: 4 },
            dbPool: { max: 2 },
            webhooks: { maxBodyBytes: MAX_BODY_BYTES },
        },
    });
    const s = cfg.pgbouncer.settings;
    const retryAfter = String(cfg.receiver.webhooks.retryAfterSeconds);
    let tier: Tier;
    let port: number;
    const post = (body: string | Buffer, extra: { deliveryId?: string; timestamp?: number; chunked?: boolean } = {}) =>
        postWebhook({ port, signing: tier.signing, source: "hardening", body, timeoutMs: 30_000, ...extra });
    const rowsFor = async (deliveryId: string) =>
        (
            await tier.postgres.query(
                `SELECT id::text FROM ${cfg.receiverRole.name}.webhook_events WHERE delivery_id = $1`,
                cfg.postgres.database,
                [deliveryId],
            )
        ).map((row) => (row as { id: string }).id);

    beforeAll(async () => {
        tier = await startTier({ cfg, gunicorn: true });
        port = tier.gunicorn?.port ?? 0;
        expect((await post("{}", { deliveryId: "warm-up" })).status).toBe(202);
    });
    afterAll(async () => {
        await tier?.stop();
    });

    describe("idempotent deliveries", () => {
        it("answers a repeated delivery with the same 202 and id, and stores one row", async () => {
            const first = await post(JSON.stringify({ n: 1 }), { deliveryId: "dup-sequential" });
            const again = await post(JSON.stringify({ n: 1 }), { deliveryId: "dup-sequential" });
            expect(first.status).toBe(202);
            expect(again.status).toBe(202);
            expect((again.json as { id: number }).id).toBe((first.json as { id: number }).id);
            expect(again.json).toMatchObject({ duplicate: true });
            expect(await rowsFor("dup-sequential")).toEqual([String((first.json as { id: number }).id)]);
        });

        it("stores one row when the same delivery arrives several times at once", async () => {
            const answers = await Promise.all(
                Array.from({ length: 6 }, () => post(JSON.stringify({ n: 2 }), { deliveryId: "dup-parallel" })),
            );
            expect(answers.map((a) => a.status)).toEqual(Array(6).fill(202));
            const ids = new Set(answers.map((a) => (a.json as { id: number }).id));
            expect(ids.size).toBe(1);
            expect(await rowsFor("dup-parallel")).toEqual([String([...ids][0])]);
        });
    });

    describe("deliveries bound to what was signed", () => {
        it("refuses the same delivery and signature replayed to another source with 401, and stores nothing there", async () => {
            const body = JSON.stringify({ bound: "source" });
            const headers = signedHeaders(tier.signing, "hardening", body, { deliveryId: "bound-source" });
            const original = await httpRequest({ port, method: "POST", path: "/webhooks/hardening", body, headers });
            const replayed = await httpRequest({ port, method: "POST", path: "/webhooks/elsewhere", body, headers });
            expect(original.status).toBe(202);
            expect(replayed.status).toBe(401);
            const sources = await tier.postgres.query<{ source: string }>(
                `SELECT source FROM ${cfg.receiverRole.name}.webhook_events WHERE delivery_id = 'bound-source'`,
                cfg.postgres.database,
            );
            expect(sources.map((r) => r.source)).toEqual(["hardening"]);
        });

        it("answers the same delivery id with a different, validly signed body 409, and keeps the first body", async () => {
            const first = await post(JSON.stringify({ version: 1 }), { deliveryId: "reused-id" });
            const other = await post(JSON.stringify({ version: 2 }), { deliveryId: "reused-id" });
            const same = await post(JSON.stringify({ version: 1 }), { deliveryId: "reused-id" });
            expect(first.status).toBe(202);
            expect(other.status).toBe(409);
            expect((other.json as { error: string }).error).toMatch(/different body/);
            expect(same.status).toBe(202);
            expect(same.json).toMatchObject({ id: (first.json as { id: number }).id, duplicate: true });
            const payloads = await tier.postgres.query<{ version: string }>(
                `SELECT payload->>'version' AS version FROM ${cfg.receiverRole.name}.webhook_events WHERE delivery_id = 'reused-id'`,
                cfg.postgres.database,
            );
            expect(payloads).toEqual([{ version: "1" }]);
        });

        // Gunicorn decodes %0a to a newline in PATH_INFO; ".." and "." would be resolved by a proxy or a log reader.
        for (const [source, status] of [
            ["..", 400],
            [".", 400],
            ["foo%0a", 404],
            ["foo%0d", 404],
            ["a%2fb", 404],
        ] as const) {
            it(`refuses the source '${source}' with ${status} and stores nothing`, async () => {
                const body = JSON.stringify({ source });
                const decoded = decodeURIComponent(source);
                const res = await httpRequest({
                    port,
                    method: "POST",
                    path: `/webhooks/${source}`,
                    body,
                    headers: signedHeaders(tier.signing, decoded, body, { deliveryId: `bad-source-${status}` }),
                });
                expect(res.status).toBe(status);
                expect(await rowsFor(`bad-source-${status}`)).toEqual([]);
            });
        }
    });

    describe("sender authentication", () => {
        const body = JSON.stringify({ event: "signed" });
        const now = () => Math.floor(Date.now() / 1000);
        const rawPost = (headers: Record<string, string>, payload: string = body) =>
            httpRequest({ port, method: "POST", path: "/webhooks/hardening", body: payload, headers });

        const cases: [string, (id: string) => Record<string, string>, string?][] = [
            ["no signature headers at all", () => ({ [tier.signing.deliveryIdHeader]: "unsigned" })],
            [
                "a signature made with another secret",
                (id) => signedHeaders({ ...tier.signing, secret: "not-the-stack-secret" }, "hardening", body, { deliveryId: id }),
            ],
            [
                "a signature of a different body",
                (id) => signedHeaders(tier.signing, "hardening", JSON.stringify({ event: "other" }), { deliveryId: id }),
            ],
            [
                "a signature of another delivery id",
                (id) => ({
                    ...signedHeaders(tier.signing, "hardening", body, { deliveryId: "other" }),
                    [tier.signing.deliveryIdHeader]: id,
                }),
            ],
            [
                "a correct signature older than the replay window",
                (id) =>
                    signedHeaders(tier.signing, "hardening", body, {
                        deliveryId: id,
                        timestamp: now() - cfg.receiver.webhooks.replayWindowSeconds - 30,
                    }),
            ],
            [
                "a correct signature from the future beyond the replay window",
                (id) =>
                    signedHeaders(tier.signing, "hardening", body, {
                        deliveryId: id,
                        timestamp: now() + cfg.receiver.webhooks.replayWindowSeconds + 30,
                    }),
            ],
        ];
        for (const [what, headers] of cases) {
            it(`refuses ${what} with 401 and stores nothing`, async () => {
                const id = `auth-${what.replace(/\W+/g, "-")}`;
                const res = await rawPost(headers(id));
                expect(res.status).toBe(401);
                expect((res.json as { error: string }).error).toMatch(
                    new RegExp(`${tier.signing.signatureHeader}|${tier.signing.timestampHeader}`),
                );
                expect(await rowsFor(id)).toEqual([]);
            });
        }

        it("accepts the same request correctly signed (the cases above differ only in the signature)", async () => {
            const res = await rawPost(signedHeaders(tier.signing, "hardening", body, { deliveryId: "auth-good" }));
            expect(res.status).toBe(202);
            expect(await rowsFor("auth-good")).toHaveLength(1);
        });
    });

    describe("malformed bodies: a 4xx with a reason, never a 500, and no row", () => {
        const cases: [string, string | Buffer, number, RegExp, boolean?][] = [
            ["JSON nested 2000 deep (RecursionError in Python's parser)", "[".repeat(2000) + "]".repeat(2000), 400, /nested too deeply/],
            ["invalid UTF-8", Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 400, /not UTF-8/],
            ["a raw NUL byte", '{"a":"x\u0000y"}', 400, /NUL/],
            ["a \\u0000 escape, which jsonb cannot store", '{"a":"x\\u0000y"}', 400, /^payload refused by the database$/],
            ["NaN", '{"a": NaN}', 400, /not JSON/],
            ["text that is not JSON", "hello", 400, /not JSON/],
            ["an empty body", "", 400, /empty body/],
            ["a body one byte over the cap", JSON.stringify({ a: "x".repeat(MAX_BODY_BYTES) }).slice(0, MAX_BODY_BYTES + 1), 413, /limit/],
            ["a chunked body over the cap", JSON.stringify({ a: "x".repeat(MAX_BODY_BYTES) }), 413, /chunked body above/, true],
        ];
        for (const [what, body, status, reason, chunked] of cases) {
            it(`answers ${what} with ${status}`, async () => {
                const id = `bad-${what.replace(/\W+/g, "-").slice(0, 60)}`;
                const res = await post(body, { deliveryId: id, chunked });
                expect(res.status).toBe(status);
                expect((res.json as { error: string }).error).toMatch(reason);
                // Never the database's text, which quotes SQL and the sender's body.
                expect(res.body).not.toMatch(/INSERT|webhook_events|CONTEXT|x\\u0000y|Unicode/);
                expect(await rowsFor(id)).toEqual([]);
            });
        }

        it("reads a chunked body without Content-Length up to the cap and stores it", async () => {
            const res = await post(JSON.stringify({ chunked: "y".repeat(MAX_BODY_BYTES / 2) }), {
                deliveryId: "chunked-ok",
                chunked: true,
            });
            expect(res.status).toBe(202);
            expect(await rowsFor("chunked-ok")).toHaveLength(1);
        });
    });

    describe("the database cannot take it now: 503 with Retry-After", () => {
        it(`answers 503 with Retry-After ${retryAfter} when the INSERT hits the statement timeout (57014)`, async () => {
            // A superuser transaction holding SHARE on the table blocks every INSERT until PostgreSQL cancels it.
            const locker = await tier.postgres.connect(cfg.postgres.database);
            try {
                await locker.query("BEGIN");
                await locker.query(`LOCK TABLE ${cfg.receiverRole.name}.webhook_events IN SHARE MODE`);
                const res = await timed(() => post(JSON.stringify({ late: true }), { deliveryId: "db-timeout" }));
                expect(res.value?.status).toBe(503);
                expect(res.value?.headers["retry-after"]).toBe(retryAfter);
                expect((res.value?.json as { error: string }).error).toMatch(/database timeout/);
                expect(res.seconds).toBeGreaterThanOrEqual(4); // the role's 5s statement_timeout, not an instant failure
            } finally {
                await locker.query("ROLLBACK").catch(() => undefined);
                await endQuietly(locker);
            }
            expect(await rowsFor("db-timeout")).toEqual([]);
        });
    });

    describe("while PgBouncer's pool is saturated", () => {
        const holders: Client[] = [];
        const serverLimit = s.default_pool_size + s.reserve_pool_size;

        afterAll(async () => {
            await Promise.all(holders.map((c) => c.query("ROLLBACK").catch(() => undefined)));
            await Promise.all(holders.map((c) => endQuietly(c)));
        });

        it(`the health check answers within ${ALB_HEALTH_TIMEOUT_SECONDS}s (and before query_wait_timeout), POSTs get 503 + Retry-After`, async () => {
            // Every server connection PgBouncer may open is held by an open transaction (transaction pooling).
            for (let i = 0; i < serverLimit; i++) {
                const c = await tier.receiver();
                holders.push(c);
            }
            await Promise.all(holders.map(async (c) => (await c.query("BEGIN"), await c.query("SELECT 1"))));
            const stats = await tier.stats();
            try {
                await waitFor(
                    "every server connection in use",
                    10_000,
                    async () => {
                        const pool = (await rowsOf(stats, "SHOW POOLS")).find((p) => p.database === cfg.pgbouncer.databaseAlias);
                        return Number(pool?.sv_active) >= serverLimit ? true : undefined;
                    },
                    100,
                );
            } finally {
                await endQuietly(stats);
            }
            // Two POSTs hold the worker's pool (waiting in PgBouncer), a third waits for the pool; the
            // fourth thread serves the health check, whose own SELECT 1 can get no connection.
            const posts = Array.from({ length: 3 }, (_, i) => post(JSON.stringify({ i }), { deliveryId: `saturated-${i}` }));
            await sleep(300);
            const health = await timed(() => httpRequest({ port, method: "GET", path: cfg.receiver.healthPath, timeoutMs: 20_000 }));
            const answered = (await Promise.all(posts)) as HttpResponse[];

            expect(health.error).toBeUndefined();
            expect(health.seconds).toBeLessThan(ALB_HEALTH_TIMEOUT_SECONDS);
            expect(health.seconds).toBeLessThan(s.query_wait_timeout);
            const body = health.value?.json as { status: string; reason?: string; db_pool: Record<string, number> };
            expect(health.value?.status).toBe(503);
            expect(Object.keys(body)).toEqual(["status", "reason", "db_pool", "response_time_ms"]);
            expect(body.status).toBe("unhealthy");
            expect(body.reason).toMatch(/^database: /);
            expect(Object.keys(body.db_pool)).toEqual(["active", "idle", "waiting", "max"]);
            expect(body.db_pool.waiting).toBeGreaterThanOrEqual(1);

            for (const res of answered) {
                expect(res.status).toBe(503);
                expect(res.headers["retry-after"]).toBe(retryAfter);
            }
            for (let i = 0; i < 3; i++) expect(await rowsFor(`saturated-${i}`)).toEqual([]);
        });
    });

    describe("health check connections", () => {
        it("reuses one held PgBouncer console connection per worker instead of a login per check", async () => {
            const consolePorts = async () => {
                const stats = await tier.stats();
                try {
                    return (await rowsOf(stats, "SHOW CLIENTS"))
                        .filter((c) => c.user === statsLogins(cfg).active.name && c.application_name === "webhook_receiver_health")
                        .map((c) => Number(c.port))
                        .sort();
                } finally {
                    await endQuietly(stats);
                }
            };
            const check = () => httpRequest({ port, method: "GET", path: cfg.receiver.healthPath, timeoutMs: 20_000 });
            // The pool may still be recovering from the saturation test: wait until healthy.
            await waitFor("health to turn 200", 20_000, async () => ((await check()).status === 200 ? true : undefined), 250);
            const first = await consolePorts();
            for (let i = 0; i < 3; i++) expect((await check()).status).toBe(200);
            const after = await consolePorts();
            expect(first.length).toBeGreaterThanOrEqual(1);
            expect(first.length).toBeLessThanOrEqual(cfg.receiver.gunicorn.workers);
            expect(after).toEqual(first);
        });
    });
});
