// Values the stack config's schema defaults to and the policy pack starts from: one truth for both.
// No imports, so the policy pack (policy/rules.ts) loads it without zod or Pulumi.

/** PostgreSQL's port (postgres.port default): no world-open ingress may reach it. */
export const POSTGRES_PORT = 5432;

/** PgBouncer's port (pgbouncer.port default): no world-open ingress may reach it. */
export const PGBOUNCER_PORT = 6432;

/** The receivers' role (receiverRole.name default); the policy checks its logins `<name>_a` / `<name>_b`. */
export const RECEIVER_ROLE_NAME = "webhook_receiver";

/** The runbook's statement timeout: receiverRole.statementTimeout's default and the policy's cap. */
export const RUNBOOK_STATEMENT_TIMEOUT = "5s";

/** The tier's pool mode: pgbouncer.settings.pool_mode's default and the only one the policy admits. */
export const TIER_POOL_MODE = "transaction";
