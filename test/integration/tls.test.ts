import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { receiverLogins } from "../../components/model/logins";
import { TierConfig } from "../../components/schema/schema";
import { databaseSettingProvider, DatabaseSettingState, PostgresConnection } from "../../components/postgres/databaseSetting";
import { HOST_PATHS } from "../../components/model/hostPaths";
import { renderPgbouncerHealthEnv } from "../../components/render/pgbouncerHealth";
import { createTestCa, httpRequest, loadTierConfig, PG_BIN, postWebhook, Sandbox, startTier, TEST_SECRETS, Tier } from "../../harness";
import { PROJECT_DIR } from "../../runtime/projectDir";

// Verified TLS on both hops with the real programs and certificates made here: PgBouncer 1.18 ->
// PostgreSQL 15 (server_tls_sslmode verify-full against postgres.caBundle), receivers (libpq, as
// psycopg2 and the host health check use it) -> PgBouncer (client_tls_* with the stack's certificate
// for pgbouncer.dnsName), and the dynamic provider (node-postgres) -> PostgreSQL.

const postgresCa = createTestCa("test PostgreSQL CA");
const strangerCa = createTestCa("someone else's CA");
const pgbouncerCa = createTestCa("test PgBouncer CA");
// PgBouncer reaches the test's PostgreSQL at 127.0.0.1: a certificate naming only the DNS name is the wrong host.
const postgresCert = postgresCa.issue({ dns: ["postgres-primary.internal"], ip: ["127.0.0.1"] });
const postgresCertOtherHost = postgresCa.issue({ dns: ["postgres-primary.internal"] });
const PGBOUNCER_NAME = "pgbouncer.internal";
const pgbouncerCert = pgbouncerCa.issue({ dns: [PGBOUNCER_NAME] });

const certs = Sandbox.temp("receiver-tier-tls-certs-");
afterAll(() => certs.remove());
const caFile = (name: string, pem: string) => {
    const file = path.join(certs.dir, `${name}.pem`);
    fs.writeFileSync(file, pem, { mode: 0o644 });
    return file;
};

/** postgresql.conf for ssl=on with this certificate (files owned by the server's account). */
function postgresTls(name: string, cert: { certPem: string; keyPem: string }) {
    return {
        ssl: "on",
        ssl_cert_file: `'${certs.write(`${name}.crt`, cert.certPem, 0o644)}'`,
        ssl_key_file: `'${certs.write(`${name}.key`, cert.keyPem, 0o600)}'`,
    };
}

/** The canary's TLS settings (verify-full on both hops) with the test's CA bundle for PostgreSQL. */
function tlsConfig(caBundle: string): TierConfig {
    const cfg = loadTierConfig("canary", { postgres: { caBundle } });
    expect(cfg.postgres.sslmode).toBe("verify-full");
    expect(cfg.pgbouncer.settings).toMatchObject({ server_tls_sslmode: "verify-full", client_tls_sslmode: "require" });
    return cfg;
}

const pgbouncerFiles = { [HOST_PATHS.pgbouncerTlsCert]: pgbouncerCert.certPem, [HOST_PATHS.pgbouncerTlsKey]: pgbouncerCert.keyPem };

async function tlsTier(
    caBundle: string,
    postgresCertificate: { certPem: string; keyPem: string },
    name: string,
    gunicorn = false,
): Promise<Tier> {
    const cfg = tlsConfig(caBundle);
    return startTier({
        cfg,
        stack: "canary",
        gunicorn,
        // The reference receiver as on a host: DB_HOST is PgBouncer's name, which libpq checks in the
        // certificate; PGHOSTADDR makes it reach the test's PgBouncer on loopback.
        appEnv: { DB_HOST: PGBOUNCER_NAME, PGHOSTADDR: "127.0.0.1", DB_SSLROOTCERT: caFile("receiver-ca", pgbouncerCa.certPem) },
        postgresSettings: postgresTls(name, postgresCertificate),
        pgbouncerFiles: { ...pgbouncerFiles, [HOST_PATHS.postgresCa]: caBundle },
    });
}

/** psql through PgBouncer with libpq's own TLS settings, as the receivers' psycopg2 connects. */
function libpqThroughPgbouncer(tier: Tier, env: Record<string, string>) {
    const login = receiverLogins(tier.cfg).active;
    const result = spawnSync(`${PG_BIN}/psql`, ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", "SELECT 1"], {
        env: {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            PGPORT: String(tier.pgbouncer.port),
            PGDATABASE: tier.cfg.pgbouncer.databaseAlias,
            PGUSER: login.name,
            PGPASSWORD: TEST_SECRETS.receiverPasswordA,
            PGCONNECT_TIMEOUT: "10",
            ...env,
        },
        encoding: "utf8",
        timeout: 30_000,
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const verifyFull = (ca: string, host = PGBOUNCER_NAME) => ({
    PGHOST: host,
    PGHOSTADDR: "127.0.0.1",
    PGSSLMODE: "verify-full",
    PGSSLROOTCERT: caFile(`ca-${Math.random().toString(36).slice(2)}`, ca),
});

/** The harness's superuser on PostgreSQL over TLS, verify-full against the test's PostgreSQL CA. */
const superuserVerifyFull = (tier: Tier): PostgresConnection => ({
    host: "127.0.0.1",
    port: tier.postgres.port,
    user: "postgres",
    password: tier.postgres.superuserPassword,
    database: "postgres",
    sslmode: "verify-full",
    sslrootcert: postgresCa.certPem,
});

describe("with the right CAs and host names", () => {
    let tier: Tier;
    beforeAll(async () => {
        tier = await tlsTier(postgresCa.certPem, postgresCert, "postgres-ok", true);
    });
    afterAll(async () => {
        await tier?.stop();
    });

    it("renders verify-full toward PostgreSQL with the shipped CA file and PgBouncer's own certificate toward receivers", () => {
        expect(tier.files["pgbouncer.ini"]).toMatch(/^server_tls_sslmode = verify-full$/m);
        expect(tier.files["pgbouncer.ini"]).toContain(`server_tls_ca_file = ${HOST_PATHS.postgresCa}`);
        expect(tier.files["pgbouncer.ini"]).toContain(`client_tls_cert_file = ${HOST_PATHS.pgbouncerTlsCert}`);
    });

    it("receivers connect with verify-full through PgBouncer, and PgBouncer reaches PostgreSQL over verified TLS", async () => {
        const result = libpqThroughPgbouncer(tier, verifyFull(pgbouncerCa.certPem));
        expect(result.output.trim()).toBe("1");
        expect(result.status).toBe(0);
        const login = receiverLogins(tier.cfg).active.name;
        const sessions = await tier.postgres.query<{ ssl: boolean }>(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = $1",
            "postgres",
            [login],
        );
        expect(sessions.length).toBeGreaterThan(0);
        expect(sessions.every((s) => s.ssl)).toBe(true);
    });

    it("the reference receiver (psycopg2) stores a webhook over verify-full with receiver.env's DB_SSLMODE", async () => {
        expect(tier.files["receiver.env"]).toMatch(/^DB_SSLMODE=verify-full$/m);
        expect(tier.files["receiver.env"]).toContain(`DB_SSLROOTCERT=${HOST_PATHS.receiverPgbouncerCa}`);
        expect(tier.gunicorn?.appEnv.DB_SSLMODE).toBe("verify-full");
        const port = tier.gunicorn?.port ?? 0;
        const health = await httpRequest({ port, method: "GET", path: tier.cfg.receiver.healthPath, timeoutMs: 20_000 });
        expect(health.status, health.body).toBe(200);
        const stored = await postWebhook({ port, signing: tier.signing, source: "tls-check", body: JSON.stringify({ tls: true }) });
        expect(stored.status).toBe(202);
    });

    it("a receiver that trusts another CA is refused: PgBouncer's certificate does not verify", () => {
        const result = libpqThroughPgbouncer(tier, verifyFull(strangerCa.certPem));
        expect(result.status).not.toBe(0);
        expect(result.output).toMatch(/certificate verify failed/);
    });

    it("a receiver that asked for another host name is refused: the certificate names pgbouncer.internal only", () => {
        const result = libpqThroughPgbouncer(tier, verifyFull(pgbouncerCa.certPem, "pgbouncer.example.internal"));
        expect(result.status).not.toBe(0);
        expect(result.output).toMatch(
            /server certificate for "pgbouncer\.internal" does not match host name "pgbouncer\.example\.internal"/,
        );
    });

    it("a plaintext client is refused by client_tls_sslmode require", () => {
        const result = libpqThroughPgbouncer(tier, { PGHOST: "127.0.0.1", PGSSLMODE: "disable" });
        expect(result.status).not.toBe(0);
        expect(result.output).toMatch(/SSL required/);
    });

    it("the host health check verifies the certificate for the receivers' name on loopback", () => {
        const rendered = renderPgbouncerHealthEnv(tier.cfg, TEST_SECRETS);
        expect(rendered).toContain(`PGSSLROOTCERT=${HOST_PATHS.pgbouncerTlsCa}`);
        const env = (ca: string) => {
            const file = path.join(certs.dir, `health-${Math.random().toString(36).slice(2)}.env`);
            fs.writeFileSync(
                file,
                rendered
                    .replace(/^PGPORT=.*$/m, `PGPORT=${tier.pgbouncer.port}`)
                    .replace(/^PGSSLROOTCERT=.*$/m, `PGSSLROOTCERT=${caFile(`health-ca-${Math.random().toString(36).slice(2)}`, ca)}`),
            );
            return file;
        };
        const run = (file: string) =>
            spawnSync("sh", [path.join(PROJECT_DIR, "files/pgbouncer/pgbouncer-health.sh"), "check"], {
                env: { ...process.env, RECEIVER_TIER_HEALTH_ENV: file },
                encoding: "utf8",
                timeout: 30_000,
            });
        expect(run(env(pgbouncerCa.certPem)).stdout.trim()).toBe("healthy");
        const wrong = run(env(strangerCa.certPem));
        expect(wrong.status).not.toBe(0);
        expect(wrong.stdout).toMatch(/^unhealthy: .*certificate verify failed/);
    });

    it("the dynamic provider's create, read, update and delete work with verify-full", async () => {
        const connection = superuserVerifyFull(tier);
        const state = (value: string): DatabaseSettingState => ({ connection, database: "deltacrown", name: "lock_timeout", value });
        const created = await databaseSettingProvider.create(state("4s"));
        expect((await databaseSettingProvider.read!(created.id, state("4s"))).props?.value).toBe("4s");
        await databaseSettingProvider.update!(created.id, state("4s"), state("6s"));
        expect((await databaseSettingProvider.read!(created.id, state("6s"))).props?.value).toBe("6s");
        await databaseSettingProvider.delete!(created.id, state("6s"));
        expect((await databaseSettingProvider.read!(created.id, state("6s"))).props?.value).toBe("");

        const stranger = { ...state("4s"), connection: { ...connection, sslrootcert: strangerCa.certPem } };
        await expect(databaseSettingProvider.create(stranger)).rejects.toThrow(/self[- ]signed certificate|unable to verify/);
    });
});

describe("PgBouncer -> PostgreSQL refuses what does not verify", () => {
    const refusedThroughPgbouncer = async (tier: Tier, reason: RegExp) => {
        const result = libpqThroughPgbouncer(tier, verifyFull(pgbouncerCa.certPem));
        expect(result.status).not.toBe(0);
        const log =
            fs.readFileSync(tier.pgbouncer.logFile, "utf8") +
            fs.readFileSync(path.join(path.dirname(tier.pgbouncer.iniPath), "pgbouncer.log"), "utf8");
        expect(log).toMatch(reason);
    };

    it("with a CA bundle PostgreSQL's certificate does not chain to", async () => {
        const tier = await tlsTier(strangerCa.certPem, postgresCert, "postgres-stranger-ca");
        try {
            await refusedThroughPgbouncer(tier, /TLS handshake error: .*certificate verify failed/);
        } finally {
            await tier.stop();
        }
    });

    it("with a certificate for another host name than PgBouncer connects to, also for the dynamic provider", async () => {
        const tier = await tlsTier(postgresCa.certPem, postgresCertOtherHost, "postgres-other-host");
        try {
            await refusedThroughPgbouncer(tier, /TLS handshake error: name `127\.0\.0\.1' not present in server certificate/);
            const connection = superuserVerifyFull(tier);
            await expect(
                databaseSettingProvider.create({ connection, database: "deltacrown", name: "lock_timeout", value: "4s" }),
            ).rejects.toThrow(/does not match certificate's altnames/);
        } finally {
            await tier.stop();
        }
    });
});
