import { describe, expect, it } from "vitest";
import { renderNginxConf } from "../../../../components/render/nginxConf";
import { ALB_IDLE_TIMEOUT_SECONDS } from "../../../../components/model/rollout";
import { upstreamMaxConns } from "../../../../components/model/proxy";
import { receiverRequestCapacity } from "../../../../components/model/capacity";
import { loadCanary, loadCanaryWith } from "../../support/stackConfig";

/** Every `name value...;` directive of the file, in order, with the block it sits in (`upstream receiver_app`, `location / `...). */
function directives(conf: string): { block: string; name: string; args: string[] }[] {
    const blocks: string[] = [];
    const found: { block: string; name: string; args: string[] }[] = [];
    for (const raw of conf.split("\n")) {
        const line = raw.replace(/#.*$/, "").trim();
        if (line === "") continue;
        if (line.endsWith("{")) blocks.push(line.slice(0, -1).trim());
        else if (line === "}") blocks.pop();
        else {
            const [name, ...args] = line.replace(/;$/, "").split(/\s+/);
            found.push({ block: blocks.join(" > "), name: name as string, args });
        }
    }
    return found;
}

const seconds = (args: readonly string[]) => Number(/^(\d+)s$/.exec(args[0] ?? "")?.[1] ?? NaN);

describe("nginx.conf for the canary stack", () => {
    const cfg = loadCanary();
    const conf = renderNginxConf(cfg, "canary");
    const all = directives(conf);
    const one = (name: string, block?: string) => {
        const matches = all.filter((d) => d.name === name && (block === undefined || d.block.endsWith(block)));
        expect(matches, `${name} in ${block ?? "the file"}`).toHaveLength(1);
        return (matches[0] as { args: string[] }).args;
    };

    it("keeps idle client connections longer than the ALB does, so the ALB always closes first (issue 20)", () => {
        expect(seconds(one("keepalive_timeout", "http"))).toBeGreaterThan(ALB_IDLE_TIMEOUT_SECONDS);
    });

    it("waits for Gunicorn longer than the app's slowest answer and less than the ALB's idle timeout", () => {
        const read = seconds(one("proxy_read_timeout"));
        const app = cfg.receiver.dbPool.timeout + cfg.pgbouncer.settings.query_wait_timeout + 5;
        expect(read).toBeGreaterThan(app);
        expect(read).toBeLessThan(ALB_IDLE_TIMEOUT_SECONDS);
    });

    it("reads whole requests before Gunicorn sees them, the body limit held in memory", () => {
        expect(one("proxy_request_buffering")).toEqual(["on"]);
        const limit = cfg.receiver.webhooks.maxBodyBytes;
        expect(Number(one("client_max_body_size")[0])).toBe(limit);
        expect(Number(one("client_body_buffer_size")[0])).toBeGreaterThanOrEqual(limit);
    });

    it("bounds slow clients' header and body reads by the configured timeouts", () => {
        expect(seconds(one("client_header_timeout"))).toBe(cfg.receiver.nginx.client_header_timeout);
        expect(seconds(one("client_body_timeout"))).toBe(cfg.receiver.nginx.client_body_timeout);
    });

    it("listens on the proxy port and sends to Gunicorn only on loopback, at its port", () => {
        expect(one("listen")[0]).toBe(String(cfg.receiver.nginx.port));
        for (const upstream of all.filter((d) => d.name === "server" && d.block.startsWith("http > upstream"))) {
            expect(upstream.args[0]).toBe(`127.0.0.1:${cfg.receiver.port}`);
        }
    });

    it("opens a fresh connection to Gunicorn per request: no upstream keepalive, no Connection header override", () => {
        expect(all.filter((d) => d.name === "keepalive" && d.block.includes("upstream"))).toEqual([]);
        expect(all.filter((d) => d.name === "proxy_set_header" && d.args[0] === "Connection")).toEqual([]);
    });

    it("lets through at most what the host's Gunicorn serves at once plus the configured queue, sheds the rest as 503 + Retry-After", () => {
        const [, maxConns] = one("server", "upstream receiver_app");
        const perHost = receiverRequestCapacity(cfg) / cfg.receiver.instances;
        expect(maxConns).toBe(`max_conns=${perHost + cfg.receiver.nginx.upstream_queue}`);
        expect(one("zone", "upstream receiver_app")[0]).toBe("receiver_app"); // shared by nginx's workers
        expect(all.some((d) => d.name === "error_page" && d.args.includes("502") && d.args.includes("=503"))).toBe(true);
        expect(one("add_header", "location @unavailable")).toEqual([
            "Retry-After",
            String(cfg.receiver.webhooks.retryAfterSeconds),
            "always",
        ]);
        expect(one("proxy_next_upstream")).toEqual(["off"]); // a POST is never sent twice
    });

    it("follows the config: a bigger queue, a longer keepalive, another body limit", () => {
        const changed = loadCanaryWith(
            ["receiver.nginx.upstream_queue", 77],
            ["receiver.nginx.keepalive_timeout", 90],
            ["receiver.webhooks.maxBodyBytes", 4096],
        );
        const d = directives(renderNginxConf(changed, "canary"));
        expect(d.find((x) => x.name === "server" && x.block.endsWith("upstream receiver_app"))?.args[1]).toBe(
            `max_conns=${upstreamMaxConns(changed)}`,
        );
        expect(upstreamMaxConns(changed)).toBe(upstreamMaxConns(cfg) - cfg.receiver.nginx.upstream_queue + 77);
        expect(d.find((x) => x.name === "keepalive_timeout" && x.block === "http")?.args).toEqual(["90s"]);
        expect(d.find((x) => x.name === "client_max_body_size")?.args).toEqual(["4096"]);
    });
});
