import { createHmac, randomUUID } from "crypto";
import * as http from "http";
import { Client, ClientConfig } from "pg";

export interface HttpRequest {
    readonly port: number;
    readonly method: "GET" | "POST" | "HEAD";
    readonly path: string;
    readonly body?: string | Buffer;
    readonly headers?: Readonly<Record<string, string>>;
    /** Send the body with Transfer-Encoding: chunked (two chunks) instead of Content-Length. */
    readonly chunked?: boolean;
    readonly timeoutMs?: number;
}

export interface HttpResponse {
    readonly status: number;
    readonly headers: http.IncomingHttpHeaders;
    readonly body: string;
    /** The body parsed as JSON, or undefined when it is not JSON. */
    readonly json: unknown;
}

/** One HTTP/1.1 request to 127.0.0.1 (no keep-alive), bounded by timeoutMs (default 15 s). */
export function httpRequest(req: HttpRequest): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
        const headers: Record<string, string | number> = { Connection: "close", ...req.headers };
        if (req.body !== undefined) {
            headers["Content-Type"] = "application/json";
            if (req.chunked) headers["Transfer-Encoding"] = "chunked";
            else headers["Content-Length"] = Buffer.byteLength(req.body);
        }
        const request = http.request(
            { host: "127.0.0.1", port: req.port, method: req.method, path: req.path, headers, agent: false },
            (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (chunk: string) => (body += chunk));
                res.on("end", () => {
                    let json: unknown;
                    try {
                        json = JSON.parse(body);
                    } catch {
                        json = undefined;
                    }
                    resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
                });
                res.on("error", reject);
            },
        );
        request.setTimeout(req.timeoutMs ?? 15_000, () => request.destroy(new Error(`HTTP ${req.method} ${req.path} timed out`)));
        request.on("error", reject);
        if (req.chunked && req.body !== undefined) {
            const bytes = Buffer.from(req.body);
            const half = Math.floor(bytes.length / 2);
            request.write(bytes.subarray(0, half));
            request.end(bytes.subarray(half));
        } else {
            request.end(req.body);
        }
    });
}

/** How the tier's senders sign webhooks: the per-stack secret and the header names from receiver.webhooks. */
export interface WebhookSigning {
    readonly secret: string;
    readonly deliveryIdHeader: string;
    readonly signatureHeader: string;
    readonly timestampHeader: string;
}

export interface Delivery {
    /** Default: a fresh UUID, so every call is a new delivery. */
    readonly deliveryId?: string;
    /** Unix seconds; default now. */
    readonly timestamp?: number;
}

/**
 * The three headers a sender adds: delivery id, timestamp, sha256=HMAC(secret, "<timestamp>.<delivery id>.<source>." + body).
 * The source (the <source> of POST /webhooks/<source>) is signed, so a captured delivery cannot be replayed to another source.
 */
export function signedHeaders(
    signing: WebhookSigning,
    source: string,
    body: string | Buffer,
    delivery: Delivery = {},
): Record<string, string> {
    const deliveryId = delivery.deliveryId ?? randomUUID();
    const timestamp = String(delivery.timestamp ?? Math.floor(Date.now() / 1000));
    const mac = createHmac("sha256", signing.secret).update(`${timestamp}.${deliveryId}.${source}.`).update(body).digest("hex");
    return {
        [signing.deliveryIdHeader]: deliveryId,
        [signing.timestampHeader]: timestamp,
        [signing.signatureHeader]: `sha256=${mac}`,
    };
}

export interface WebhookPost extends Delivery {
    readonly port: number;
    readonly signing: WebhookSigning;
    /** The <source> of POST /webhooks/<source>. */
    readonly source: string;
    readonly body: string | Buffer;
    readonly chunked?: boolean;
    readonly timeoutMs?: number;
}

/** POST /webhooks/<source>, signed as the tier's senders sign it. */
export function postWebhook(post: WebhookPost): Promise<HttpResponse> {
    return httpRequest({
        port: post.port,
        method: "POST",
        path: `/webhooks/${post.source}`,
        body: post.body,
        headers: signedHeaders(post.signing, post.source, post.body, post),
        chunked: post.chunked,
        timeoutMs: post.timeoutMs,
    });
}

export interface PgTarget {
    readonly host: string;
    readonly port: number;
}

/**
 * A connected node-postgres client; errors after connect (server gone) are recorded, not thrown
 * into the event loop. The caller ends it (endQuietly).
 */
export async function connectPg(target: PgTarget, config: Omit<ClientConfig, "host" | "port">): Promise<Client> {
    // query_timeout is node-pg's own client-side bound (never a startup parameter): no test waits forever.
    const client = new Client({ connectionTimeoutMillis: 10_000, query_timeout: 60_000, ...config, host: target.host, port: target.port });
    client.on("error", () => undefined);
    try {
        await client.connect();
    } catch (err) {
        await endQuietly(client);
        throw err;
    }
    return client;
}

/** Ends a client, bounded, ignoring errors (it may already be broken). */
export async function endQuietly(client: Client, timeoutMs = 2000): Promise<void> {
    await Promise.race([client.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
}

/** Rows of a simple-protocol statement (what PgBouncer's console accepts). */
export async function rowsOf(client: Client, sql: string): Promise<Record<string, unknown>[]> {
    return (await client.query(sql)).rows as Record<string, unknown>[];
}

/** Runs fn and returns its result or error with the elapsed seconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value?: T; error?: Error & { code?: string } }> {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
        const value = await fn();
        return { seconds: seconds(), value };
    } catch (err) {
        return { seconds: seconds(), error: err as Error & { code?: string } };
    }
}
