import { loginPassword, receiverLogins, statsLogins } from "../model/logins";
import { TierConfig, TierSecrets } from "../schema/schema";
import { renderEnvFile } from "./envFile";
import { HOST_PATHS } from "../model/hostPaths";
import { pgbouncerServesTls } from "../model/tlsModes";

/** Seconds the health check's login may take: well inside NLB_HEALTH_CHECK.timeout. */
const HEALTH_CONNECT_TIMEOUT_SECONDS = 3;

/**
 * pgbouncer-health.env: the logins of the host's own checks. The health check logs in through its
 * own PgBouncer as the receivers' active login, so it fails exactly when receivers could not log in
 * through this host; the metrics collector reads the console as the active stats login. Both follow
 * the rotation: a standby is accepted before clients (and these checks) move to it.
 */
export function renderPgbouncerHealthEnv(cfg: TierConfig, secrets: TierSecrets): string {
    const login = receiverLogins(cfg).active;
    const stats = statsLogins(cfg).active;
    // With TLS the check connects to this host's own PgBouncer (hostaddr) but verifies the certificate
    // for the name receivers use, with the CA they trust: a host serving a wrong certificate is unfit.
    const where: [string, string][] = pgbouncerServesTls(cfg)
        ? [
              ["PGHOST", cfg.pgbouncer.dnsName],
              ["PGHOSTADDR", "127.0.0.1"],
              ["PGSSLMODE", "verify-full"],
              ["PGSSLROOTCERT", HOST_PATHS.pgbouncerTlsCa],
          ]
        : [
              ["PGHOST", "127.0.0.1"],
              ["PGSSLMODE", "disable"],
          ];
    return renderEnvFile("PgBouncer health check login. Secret: delivered through the secret store only.", [
        ...where,
        ["PGPORT", cfg.pgbouncer.port],
        ["PGDATABASE", cfg.pgbouncer.databaseAlias],
        ["PGUSER", login.name],
        ["PGPASSWORD", loginPassword(secrets, login)],
        ["PGCONNECT_TIMEOUT", HEALTH_CONNECT_TIMEOUT_SECONDS],
        ["STATS_USER", stats.name],
        ["STATS_PASSWORD", loginPassword(secrets, stats)],
    ]);
}
