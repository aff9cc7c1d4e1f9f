import { SchemaConfig } from "../schema/schema";

// The tier's connection arithmetic: one place for the rules that check it and for the renderers and role
// limits that follow from it.

/** Server connections one PgBouncer host may open to the database: the rendered max_db_connections. */
export function serverConnectionsPerHost(cfg: SchemaConfig): number {
    const s = cfg.pgbouncer.settings;
    return s.default_pool_size + s.reserve_pool_size;
}

/**
 * PgBouncer hosts that may be connected to PostgreSQL at once: a roll on AWS launches each
 * replacement before it retires the old host, so one more than configured.
 */
export function pgbouncerHostsDuringRoll(cfg: SchemaConfig): number {
    return cfg.platform === "aws" ? cfg.pgbouncer.hosts + 1 : cfg.pgbouncer.hosts;
}

/** The PgBouncer console connection each worker keeps for its health check (SHOW POOLS). */
export const HEALTH_CONSOLE_CONNECTIONS = 1;

/** Connections all receivers may hold at once towards PgBouncer: each worker's pool and its health console connection. */
export function receiverClientConnections(cfg: SchemaConfig): number {
    const { instances, gunicorn, dbPool } = cfg.receiver;
    return instances * gunicorn.workers * (dbPool.max + dbPool.maxOverflow + HEALTH_CONSOLE_CONNECTIONS);
}

/** What PostgreSQL leaves to the whole PgBouncer fleet. */
export function postgresBudget(cfg: SchemaConfig): number {
    const pg = cfg.postgres;
    return pg.maxConnections - pg.superuserReservedConnections - pg.reservedForOtherClients;
}

/** Requests one Gunicorn worker serves at once, hence DB connections it can use at once. */
export function workerConcurrency(cfg: SchemaConfig): number {
    // sync serves one request; gthread (which sync becomes with threads > 1) one per thread.
    return cfg.receiver.gunicorn.threads ?? 1;
}

/** Requests all receivers serve at once: a thread serves one, and only while it holds a pooled DB connection. */
export function receiverRequestCapacity(cfg: SchemaConfig): number {
    const { instances, gunicorn, dbPool } = cfg.receiver;
    return instances * gunicorn.workers * Math.min(workerConcurrency(cfg), dbPool.max + dbPool.maxOverflow);
}
