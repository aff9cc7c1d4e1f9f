import { TierConfig } from "../schema/schema";
import { upstreamMaxConns } from "../model/proxy";

/** Where nginx keeps what it writes on a receiver host (Debian's locations); the harness moves them into its sandbox. */
export const NGINX_HOST_PATHS = {
    pid: "/run/nginx.pid",
    errorLog: "/var/log/nginx/error.log",
    accessLog: "/var/log/nginx/receiver-access.log",
    tempDir: "/var/lib/nginx",
} as const;

/** nginx's own temp directories (one per module), which a config must name for nginx to run unprivileged elsewhere. */
export const NGINX_TEMP_DIRECTIVES = ["client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path"];

const s = (seconds: number) => `${seconds}s`;

/** nginx's own 503 when Gunicorn is full (upstream max_conns), down or too slow. */
export const NGINX_BUSY_MESSAGE = "receiver busy, retry later";

/** A JSON body nginx answers itself, in the reference receiver's shape ({"error": ...}). */
const jsonError = (message: string) => `'${JSON.stringify({ error: message })}'`;

/**
 * nginx.conf of a receiver host: the whole file (no Debian default site, no includes), a buffering
 * proxy in front of Gunicorn on 127.0.0.1:receiver.port. nginx reads every request header and body
 * (within client_*_timeout and client_max_body_size) before a Gunicorn thread sees it, so slow
 * clients cost a connection in nginx's event loop, not a thread; it refuses framing it cannot read
 * (e.g. Transfer-Encoding other than chunked) itself; and it lets at most what Gunicorn serves at once
 * through, plus a short queue (upstream max_conns), answering the rest 503 with Retry-After at once.
 */
export function renderNginxConf(cfg: TierConfig, stack: string): string {
    const r = cfg.receiver;
    const n = r.nginx;
    const body = r.webhooks.maxBodyBytes;
    const retryAfter = r.webhooks.retryAfterSeconds;
    const temp = NGINX_TEMP_DIRECTIVES.map((directive) => `    ${directive} ${NGINX_HOST_PATHS.tempDir}/${directive.split("_")[0]};`);
    return (
        [
            `# nginx.conf for receiver-tier stack "${stack}". Rendered from stack config; do not edit on the host.`,
            "user www-data;",
            "worker_processes auto;",
            // Two descriptors per proxied request (client and upstream), plus the log files.
            `worker_rlimit_nofile ${2 * n.worker_connections + 64};`,
            `pid ${NGINX_HOST_PATHS.pid};`,
            `error_log ${NGINX_HOST_PATHS.errorLog} warn;`,
            "",
            "events {",
            `    worker_connections ${n.worker_connections};`,
            "}",
            "",
            "http {",
            "    server_tokens off;",
            "    default_type application/json;",
            "    charset utf-8;",
            `    access_log ${NGINX_HOST_PATHS.accessLog};`,
            ...temp,
            "    # Slow clients: the whole header, and each read of the body, within these; the answer too.",
            `    client_header_timeout ${s(n.client_header_timeout)};`,
            `    client_body_timeout ${s(n.client_body_timeout)};`,
            `    send_timeout ${s(n.send_timeout)};`,
            "    reset_timedout_connection on;",
            `    # The app's body limit (receiver.webhooks.maxBodyBytes), held in memory whole: never a temp file.`,
            `    client_max_body_size ${body};`,
            `    client_body_buffer_size ${body};`,
            "    # The ALB keeps idle connections for its idle timeout: nginx keeps them longer, so the ALB closes first.",
            `    keepalive_timeout ${s(n.keepalive_timeout)};`,
            "",
            "    # Gunicorn on this host. max_conns: what its workers serve at once plus upstream_queue; nginx sends",
            "    # nothing beyond it (counted across nginx's workers through the zone): the queue in Gunicorn stays short.",
            "    upstream receiver_app {",
            "        zone receiver_app 64k;",
            `        server 127.0.0.1:${r.port} max_conns=${upstreamMaxConns(cfg)};`,
            "    }",
            "    # The health check has its own small budget: a full app upstream must not fail the ALB's check.",
            "    upstream receiver_health {",
            "        zone receiver_health 64k;",
            `        server 127.0.0.1:${r.port} max_conns=${r.gunicorn.workers};`,
            "    }",
            "",
            "    server {",
            `        listen ${n.port} default_server;`,
            "        server_name _;",
            "",
            "        # A fresh loopback connection per request (nginx sends Connection: close): a reused idle one races",
            "        # Gunicorn closing it (a worker recycled by max_requests resets it), and a POST is never resent.",
            "        proxy_http_version 1.1;",
            "        proxy_set_header Host $host;",
            "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
            "        proxy_request_buffering on;",
            "        proxy_buffering on;",
            `        proxy_connect_timeout ${s(n.proxy_connect_timeout)};`,
            `        proxy_send_timeout ${s(n.proxy_read_timeout)};`,
            `        proxy_read_timeout ${s(n.proxy_read_timeout)};`,
            "        # A webhook is a POST: never send it to Gunicorn a second time.",
            "        proxy_next_upstream off;",
            "",
            "        # nginx's own refusals in the app's JSON shape. 502/504: Gunicorn full (max_conns), down or too slow.",
            "        error_page 502 504 =503 @unavailable;",
            "        error_page 413 @too_large;",
            "        error_page 501 =400 @bad_framing;",
            "",
            `        location = ${r.healthPath} {`,
            "            proxy_pass http://receiver_health;",
            "        }",
            "        location / {",
            "            proxy_pass http://receiver_app;",
            "        }",
            "        location @unavailable {",
            `            add_header Retry-After ${retryAfter} always;`,
            `            return 503 ${jsonError(NGINX_BUSY_MESSAGE)};`,
            "        }",
            "        location @too_large {",
            `            return 413 ${jsonError(`body above the ${body}-byte limit`)};`,
            "        }",
            "        location @bad_framing {",
            `            return 400 ${jsonError("unsupported request framing (Transfer-Encoding)")};`,
            "        }",
            "    }",
            "}",
        ].join("\n") + "\n"
    );
}
