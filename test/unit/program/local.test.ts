import { beforeAll, describe, expect, it } from "vitest";
import { parseTierConfig } from "../../../components/config/load";
import { readStackFile } from "../../../components/config/stackFile";
import { renderLocalPostgres } from "../../../components/render/dockerContainers";
import { localStackOutputs } from "../../../components/model/outputs";
import { byName, byType, plain, PROJECT_DIR, ProgramRun, renderedFiles, stackRun, PROGRAM_SECRETS } from "./mockTier";

let run: ProgramRun;
const files = renderedFiles("local");
const inputs = (name: string) => plain(byName(run, name).inputs) as Record<string, any>;
const uploads = (name: string) => new Map((inputs(name).uploads as { file: string; content: string }[]).map((u) => [u.file, u.content]));

beforeAll(async () => {
    run = stackRun("local");
});

describe("local stack (platform docker)", () => {
    it("creates no AWS resource", () => {
        expect(run.resources.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
    });

    it("runs PostgreSQL with the configured connection budget, published on loopback only", () => {
        const postgres = inputs("local-local-postgres");
        expect(postgres.command).toEqual([
            "postgres",
            "-c",
            "port=5432",
            "-c",
            "max_connections=100",
            "-c",
            "superuser_reserved_connections=3",
        ]);
        expect(postgres.envs).toEqual(expect.arrayContaining(["POSTGRES_DB=deltacrown", "POSTGRES_HOST_AUTH_METHOD=scram-sha-256"]));
        expect(postgres.ports).toEqual([{ internal: 5432, external: 15432, ip: "127.0.0.1" }]);
        expect(postgres.networksAdvanced[0].aliases).toEqual(["postgres"]);
        expect(postgres.wait).toBe(true);
    });

    it("runs PostgreSQL on postgres.port inside the container, where pgbouncer.ini connects and the health check looks", () => {
        const raw = readStackFile(PROJECT_DIR, "local").raw as { postgres?: Record<string, unknown> };
        const cfg = parseTierConfig({ ...raw, postgres: { ...raw.postgres, port: 6543 } }).config;
        const postgres = renderLocalPostgres(cfg);
        expect(postgres.port).toBe(6543);
        expect(postgres.command.slice(0, 3)).toEqual(["postgres", "-c", "port=6543"]);
        expect(postgres.healthcheck).toEqual(expect.arrayContaining(["pg_isready", "-p", "6543"]));
    });

    it("mounts the rendered pgbouncer.ini and userlist.txt byte for byte", () => {
        const mounted = uploads("local-local-pgbouncer");
        expect(mounted.get("/etc/receiver-tier/pgbouncer.ini")).toBe(files["pgbouncer.ini"]);
        expect(mounted.get("/etc/receiver-tier/userlist.txt")).toBe(files["userlist.txt"]);
        expect(inputs("local-local-pgbouncer").networksAdvanced[0].aliases).toEqual(["pgbouncer"]);
    });

    it("publishes the receiver container's nginx, the rendered nginx.conf in front of Gunicorn on the container's loopback", () => {
        const receiver = inputs("local-local-receiver");
        expect(uploads("local-local-receiver").get("/etc/receiver-tier/nginx.conf")).toBe(files["nginx.conf"]);
        expect(files["nginx.conf"]).toMatch(/^\s*listen 8080 default_server;$/m);
        expect(receiver.ports).toEqual([{ internal: 8080, external: 8000, ip: "127.0.0.1" }]);
        expect(files["gunicorn.conf.py"]).toMatch(/^bind = "127\.0\.0\.1:8000"$/m);
    });

    it("runs the reference receiver with the rendered gunicorn.conf.py and receiver.env", () => {
        const mounted = uploads("local-local-receiver");
        expect(mounted.get("/etc/webhook-receiver/gunicorn.conf.py")).toBe(files["gunicorn.conf.py"]);
        expect(mounted.get("/etc/webhook-receiver/receiver.env")).toBe(files["receiver.env"]);
        expect(mounted.get("/etc/webhook-receiver/secrets.env")).toContain(`DB_PASSWORD=${PROGRAM_SECRETS.receiverPasswordA}`);
        const images = byType(run, "docker:index/image:Image").map((i) => plain(i.inputs) as Record<string, any>);
        expect(images.map((i) => i.build.context)).toEqual(expect.arrayContaining([expect.stringMatching(/files\/docker\/pgbouncer$/)]));
    });

    it("points the Postgres settings at the container's published port", () => {
        expect(inputs("local-postgres-provider")).toMatchObject({ host: "127.0.0.1", port: "15432", sslmode: "disable" });
        expect(inputs("local-postgres-database-statement-timeout")).toMatchObject({ value: "5s", database: "deltacrown" });
    });

    it("exports local endpoints", () => {
        expect(run.outputs).toMatchObject({
            healthUrl: "http://localhost:8000/webhooks/health",
            pgbouncerEndpoint: "127.0.0.1:6432",
            poolEndpoints: ["127.0.0.1:6432"],
            statementTimeout: "5s",
        });
    });

    it("exports exactly what `npm run local` prints (its statementTimeout is read from the running database)", () => {
        const cfg = parseTierConfig(readStackFile(PROJECT_DIR, "local").raw).config;
        expect(localStackOutputs(cfg, run.outputs.statementTimeout as string)).toEqual(run.outputs);
    });
});
