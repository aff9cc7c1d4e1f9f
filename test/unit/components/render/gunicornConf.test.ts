import { describe, expect, it } from "vitest";
import { renderGunicornConf } from "../../../../components/render/gunicornConf";
import { parsePythonAssignments } from "../../support/fileParsers";
import { parseTierConfig } from "../../../../components/config/load";
import { readStackFile } from "../../../../components/config/stackFile";
import { loadCanary, loadCanaryWith, PROJECT_DIR } from "../../support/stackConfig";

/**
 * runbook.md "Gunicorn/Uvicorn Worker Configuration", minus worker_connections and keepalive (mistake 7)
 * and worker_class 'sync' (README "Deviations": gthread threads hold the senders' requests in flight).
 */
const RUNBOOK_GUNICORN = {
    workers: 2,
    timeout: 30,
    max_requests: 1000,
    max_requests_jitter: 50,
    accesslog: "/var/log/webhook-receiver/access.log",
    errorlog: "/var/log/webhook-receiver/error.log",
    loglevel: "info",
} as const;

describe("gunicorn.conf.py for the canary stack", () => {
    const conf = parsePythonAssignments(renderGunicornConf(loadCanary(), "canary"));

    for (const [key, value] of Object.entries(RUNBOOK_GUNICORN)) {
        it(`keeps the runbook's ${key} = ${JSON.stringify(value)}`, () => {
            expect(conf[key]).toBe(value);
        });
    }

    it("runs gthread workers with 32 threads each, so 2 receivers x 2 workers hold the senders' 100 requests in flight", () => {
        expect(conf).toMatchObject({ worker_class: "gthread", threads: 32 });
    });

    it("leaves out worker_connections, which the stack does not set (mistake 7)", () => {
        expect(conf).not.toHaveProperty("worker_connections");
    });

    it("binds the receiver port on loopback only (nginx on the host is its one client), and names the WSGI app", () => {
        expect(conf.bind).toBe("127.0.0.1:8000");
        expect(conf.wsgi_app).toMatch(/^[A-Za-z_][\w.]*:[A-Za-z_]\w*$/);
    });
});

describe("gunicorn.conf.py follows the config", () => {
    it("writes optional settings only when the stack sets them", () => {
        const conf = parsePythonAssignments(
            renderGunicornConf(
                loadCanaryWith(
                    ["receiver.gunicorn.threads", 40],
                    ["receiver.dbPool.max", 40],
                    ["receiver.gunicorn.keepalive", 45],
                    ["receiver.port", 9000],
                ),
                "canary",
            ),
        );
        expect(conf).toMatchObject({ worker_class: "gthread", threads: 40, keepalive: 45, bind: "127.0.0.1:9000" });
    });

    it("renders no keepalive for sync workers (they close every connection) and binds loopback in the local container too", () => {
        const conf = parsePythonAssignments(renderGunicornConf(parseTierConfig(readStackFile(PROJECT_DIR, "local").raw).config, "local"));
        expect(conf).not.toHaveProperty("keepalive");
        expect(conf.bind).toBe("127.0.0.1:8000");
    });

    it("quotes a path with a quote in it as a valid Python string", () => {
        const conf = parsePythonAssignments(
            renderGunicornConf(loadCanaryWith(["receiver.gunicorn.accesslog", `/var/log/it's "here".log`]), "canary"),
        );
        expect(conf.accesslog).toBe(`/var/log/it's "here".log`);
    });
});
