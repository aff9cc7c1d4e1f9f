import { SchemaConfig } from "../schema/schema";
import { workerConcurrency } from "./capacity";

// What follows from config for the buffering proxy in front of Gunicorn: one place for the renderers
// (nginx.conf, gunicorn.conf.py) and the rule that checks them against each other.

/** A receiver's own health check, through its nginx as the ALB asks it: launch readiness and the health metric. */
export function localHealthUrl(cfg: SchemaConfig): string {
    return `http://127.0.0.1:${cfg.receiver.nginx.port}${cfg.receiver.healthPath}`;
}

/** Requests one receiver host's Gunicorn serves at once: a thread serves one while it holds a pooled connection. */
export function hostRequestCapacity(cfg: SchemaConfig): number {
    const { gunicorn, dbPool } = cfg.receiver;
    return gunicorn.workers * Math.min(workerConcurrency(cfg), dbPool.max + dbPool.maxOverflow);
}

/**
 * Requests one receiver host lets through to Gunicorn at once (nginx's upstream max_conns): what it
 * serves at once plus a short queue (receiver.nginx.upstream_queue). The rest get 503 + Retry-After from
 * nginx at once instead of waiting without bound in Gunicorn's queue or listen backlog.
 */
export function upstreamMaxConns(cfg: SchemaConfig): number {
    return hostRequestCapacity(cfg) + cfg.receiver.nginx.upstream_queue;
}
