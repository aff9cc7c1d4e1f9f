import * as fs from "fs";
import { TierConfig, TierSecrets } from "../../components/schema/schema";
import { PostgresCluster, startPostgres } from "../postgres";
import { Sandbox } from "../sandbox";
import { renderTierFiles } from "../../components/render/tierFiles";
import { TestCa } from "../testCa";

// postgres-primary.internal for the booted hosts: a real PostgreSQL 15, unprivileged (as harness/ runs
// it), serving TLS with a certificate for the stack's PostgreSQL name from the test CA the boot puts
// into postgres.caBundle, listening on the boot network's gateway, set up by the stack's database.sql.

export interface PrimaryDatabase {
    readonly cluster: PostgresCluster;
    stop(): Promise<void>;
}

export async function startPrimary(
    cfg: TierConfig,
    stack: string,
    secrets: TierSecrets,
    ca: TestCa,
    listenAddress: string,
    networkCidr: string,
    progress: (line: string) => void,
): Promise<PrimaryDatabase> {
    const sandbox = Sandbox.temp("receiver-tier-boot-pg-");
    const issued = ca.issue({ dns: [cfg.postgres.host] });
    sandbox.write("server.crt", issued.certPem, 0o600);
    sandbox.write("server.key", issued.keyPem, 0o600);
    let cluster: PostgresCluster | undefined;
    try {
        cluster = await startPostgres({
            sandbox,
            port: cfg.postgres.port,
            maxConnections: cfg.postgres.maxConnections,
            superuserReservedConnections: cfg.postgres.superuserReservedConnections,
            hostAuthMethod: cfg.pgbouncer.settings.auth_type,
            settings: {
                // Only the boot network: the hosts reach it as postgres-primary.internal; the harness uses the socket.
                listen_addresses: `'${listenAddress}'`,
                ssl: "on",
                ssl_cert_file: `'${sandbox.path("server.crt")}'`,
                ssl_key_file: `'${sandbox.path("server.key")}'`,
            },
            progress,
        });
        // TLS only from the hosts, with the stack's password method; never trust.
        fs.appendFileSync(`${cluster.dataDir}/pg_hba.conf`, `hostssl all all ${networkCidr} ${cfg.pgbouncer.settings.auth_type}\n`);
        await cluster.query("SELECT pg_reload_conf()");
        await cluster.createDatabase(cfg.postgres.database);
        const files = renderTierFiles(cfg, secrets, stack);
        const sqlFile = sandbox.write("database.sql", files["database.sql"], 0o600);
        await cluster.psqlFile(cfg.postgres.database, sqlFile);
        progress(`PostgreSQL 15 on ${listenAddress}:${cluster.port} (TLS, ${cfg.postgres.host}), database.sql applied`);
    } catch (err) {
        await cluster?.stop().catch(() => undefined);
        sandbox.remove();
        throw err;
    }
    const started = cluster;
    return {
        cluster: started,
        async stop() {
            await started.stop();
            sandbox.remove();
        },
    };
}
