import * as http from "http";
import { AddressInfo, connect } from "net";

// A forward proxy for the booted hosts' apt, listening on the gateway only, that forwards to the
// Debian archives this machine's apt is configured for and refuses every other destination. The hosts
// have no route out; this is their one way to the archive, as a NAT gateway is on EC2. Plain HTTP
// (GET with an absolute URI) and CONNECT (an https:// archive) are both forwarded, to allowed hosts only.

export interface AptProxy {
    readonly port: number;
    /** Requests forwarded and refused, for the record. */
    readonly forwarded: () => number;
    readonly refused: () => string[];
    stop(): Promise<void>;
}

export async function startAptProxy(bindAddress: string, allowedHosts: readonly string[]): Promise<AptProxy> {
    const allowed = new Set(allowedHosts.map((h) => h.toLowerCase()));
    let forwarded = 0;
    const refused: string[] = [];
    const server = http.createServer((req, res) => {
        let target: URL;
        try {
            target = new URL(req.url ?? "");
        } catch {
            res.writeHead(400).end("absolute URI required\n");
            return;
        }
        if (target.protocol !== "http:" || !allowed.has(target.host.toLowerCase())) {
            refused.push(`${req.method} ${target.host}`);
            res.writeHead(403).end(`the boot harness's proxy forwards only to this machine's Debian archive\n`);
            return;
        }
        forwarded++;
        const headers: http.OutgoingHttpHeaders = { ...req.headers, host: target.host };
        delete headers["proxy-connection"];
        const upstream = http.request(
            { host: target.hostname, port: target.port || 80, method: req.method, path: target.pathname + target.search, headers },
            (answer) => {
                res.writeHead(answer.statusCode ?? 502, answer.headers);
                answer.pipe(res);
            },
        );
        upstream.on("error", (err) => {
            if (!res.headersSent) res.writeHead(502);
            res.end(`upstream: ${err.message}\n`);
        });
        req.pipe(upstream);
    });
    server.on("connect", (req, socket, head) => {
        const [host, port] = String(req.url ?? "").split(":");
        if (!allowed.has(String(host).toLowerCase()) || port !== "443") {
            refused.push(`CONNECT ${req.url}`);
            socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
            return;
        }
        forwarded++;
        const upstream = connect(443, String(host), () => {
            socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
            upstream.write(head);
            upstream.pipe(socket).pipe(upstream);
        });
        const close = () => {
            socket.destroy();
            upstream.destroy();
        };
        upstream.on("error", close);
        socket.on("error", close);
    });
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, bindAddress, resolve));
    return {
        port: (server.address() as AddressInfo).port,
        forwarded: () => forwarded,
        refused: () => [...refused],
        async stop() {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}
