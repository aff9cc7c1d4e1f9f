import { statsLogins } from "./logins";
import { TierConfig } from "../schema/schema";

/** host:port as clients write it. */
export function hostPort(host: string, port: number): string {
    return `${host}:${port}`;
}

/** The stack's public receiver domain (the receiverDomainStated rule already refused an aws stack without one). */
export function publicDomain(cfg: TierConfig): string {
    if (cfg.receiver.domain === undefined) throw new Error("receiver-tier:receiver.domain is required for platform aws");
    return cfg.receiver.domain;
}

/** Where operators reach the tier: the public receiver URL and the PgBouncer address. */
function reach(cfg: TierConfig): { baseUrl: string; pgbouncerHost: string; pgbouncerPort: number } {
    if (cfg.platform === "docker") {
        return {
            baseUrl: `http://localhost:${cfg.docker.receiverHostPort}`,
            pgbouncerHost: "127.0.0.1",
            pgbouncerPort: cfg.docker.pgbouncerHostPort,
        };
    }
    return { baseUrl: `https://${publicDomain(cfg)}`, pgbouncerHost: cfg.pgbouncer.dnsName, pgbouncerPort: cfg.pgbouncer.port };
}

/** Stack outputs that follow from config alone. */
export function renderEndpoints(cfg: TierConfig) {
    const { baseUrl, pgbouncerHost, pgbouncerPort } = reach(cfg);
    return {
        healthUrl: `${baseUrl}${cfg.receiver.healthPath}`,
        pgbouncerEndpoint: hostPort(pgbouncerHost, pgbouncerPort),
        // The runbook ran this as webhook_receiver, which PgBouncer refuses: only stats_users may.
        showPoolsCommand: `psql -h ${pgbouncerHost} -p ${pgbouncerPort} -U ${statsLogins(cfg).active.name} -d pgbouncer -c "SHOW POOLS;"`,
    };
}

/** The local stack's poolEndpoints output: its one PgBouncer, where the host reaches it. */
export function localPoolEndpoints(cfg: TierConfig): string[] {
    return [renderEndpoints(cfg).pgbouncerEndpoint];
}

/** Where an operator on the deploy machine reaches PostgreSQL (the local stack publishes it on loopback). */
export function postgresEndpoint(cfg: TierConfig): string {
    return cfg.platform === "docker" ? hostPort("127.0.0.1", cfg.docker.postgresHostPort) : hostPort(cfg.postgres.host, cfg.postgres.port);
}
