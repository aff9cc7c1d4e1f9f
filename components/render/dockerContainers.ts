import { TierConfig } from "../schema/schema";

/** What the local PostgreSQL container runs with. */
export interface LocalPostgres {
    /** The port PostgreSQL listens on in the container, the one pgbouncer.ini connects to (postgres.port). */
    readonly port: number;
    readonly envs: string[];
    readonly command: string[];
    readonly healthcheck: string[];
}

/** Environment and command of the local PostgreSQL container, sized like the real server. */
export function renderLocalPostgres(cfg: TierConfig): LocalPostgres {
    const pg = cfg.postgres;
    return {
        port: pg.port,
        envs: [
            `POSTGRES_USER=${pg.adminUser}`,
            `POSTGRES_DB=${pg.database}`,
            // pg_hba for the tier's roles: md5 also accepts SCRAM-stored passwords, scram-sha-256 does not accept md5.
            `POSTGRES_HOST_AUTH_METHOD=${cfg.pgbouncer.settings.auth_type}`,
        ],
        command: [
            "postgres",
            "-c",
            `port=${pg.port}`,
            "-c",
            `max_connections=${pg.maxConnections}`,
            "-c",
            `superuser_reserved_connections=${pg.superuserReservedConnections}`,
        ],
        healthcheck: ["CMD", "pg_isready", "-p", String(pg.port), "-U", pg.adminUser, "-d", pg.database],
    };
}

/** The local PostgreSQL admin password as the container takes it. */
export function postgresPasswordEnv(password: string): string {
    return `POSTGRES_PASSWORD=${password}`;
}
