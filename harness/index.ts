/**
 * What runs the real programs on this machine: PostgreSQL 15, PgBouncer 1.18 and Gunicorn on 127.0.0.1,
 * started from a stack's rendered files, for `npm run local`, `npm run bench` and the integration tests.
 * Each module's exports carry their own doc lines; runningTier.ts (startTier) is where to begin.
 */
export * from "./clients";
export * from "./cutoverSteps";
export * from "./gunicorn";
export * from "./lock";
export * from "./packages";
export * from "./pgbouncer";
export * from "./pids";
export * from "./ports";
export * from "./postgres";
export * from "./run";
export * from "./runningTier";
export * from "./sandbox";
export * from "./stack";
export * from "./testCa";
export * from "./wait";
export * from "./nginx";
export * from "./switchoverInventory";
export * from "./replication";
