import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { durationToMs } from "../config/duration";
import { TierConfig, TierSecrets } from "../config/schema";
import { roleSecret } from "../render/userlist";
import { monitorConnectionLimit, MONITOR_STATEMENT_TIMEOUT, receiverConnectionLimit } from "../render/databaseSql";
import { DatabaseSetting, PostgresConnection } from "./databaseSetting";

export interface PostgresSettingsArgs {
    /** Validated stack config. */
    readonly config: TierConfig;
    /** Tier passwords (secret); roles get their pre-hashed form. */
    readonly secrets: pulumi.Output<TierSecrets>;
    /** Admin connection the provider and the database-setting resource use (password secret). */
    readonly admin: pulumi.Input<PostgresConnection>;
}

/** The receiver, stats and monitoring roles, their grants and the database statement_timeout. */
export class PostgresSettings extends pulumi.ComponentResource {
    public readonly statementTimeout: pulumi.Output<string>;

    constructor(name: string, args: PostgresSettingsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("receiver-tier:postgres:Settings", name, {}, opts);
        const cfg = args.config;
        const admin = pulumi.output(args.admin);
        const provider = new postgresql.Provider(
            `${name}-provider`,
            {
                host: admin.host,
                port: admin.port,
                username: admin.user,
                password: pulumi.secret(admin.password),
                database: admin.database,
                sslmode: admin.sslmode,
                superuser: false,
            },
            { parent: this },
        );
        const child = { parent: this, provider };
        const hashed = (role: string, password: (s: TierSecrets) => string) =>
            pulumi.secret(args.secrets.apply((s) => roleSecret(cfg, role, password(s))));

        const receiver = new postgresql.Role(
            `${name}-receiver`,
            {
                name: cfg.receiverRole.name,
                login: true,
                // Same pre-hashed secret as userlist.txt: PostgreSQL stores it as given.
                password: hashed(cfg.receiverRole.name, (s) => s.receiverPassword),
                statementTimeout: durationToMs(cfg.receiverRole.statementTimeout),
                idleInTransactionSessionTimeout: durationToMs(cfg.receiverRole.idleInTransactionSessionTimeout),
                connectionLimit: receiverConnectionLimit(cfg),
            },
            child,
        );
        // Signs in to PgBouncer's console only; the role reserves the name in PostgreSQL.
        new postgresql.Role(`${name}-stats`, { name: cfg.pgbouncer.statsUser, login: false }, child);
        const monitor = new postgresql.Role(
            `${name}-monitor`,
            {
                name: cfg.monitor.role,
                login: true,
                password: hashed(cfg.monitor.role, (s) => s.monitorPassword),
                roles: ["pg_monitor"],
                statementTimeout: durationToMs(MONITOR_STATEMENT_TIMEOUT),
                connectionLimit: monitorConnectionLimit(cfg),
            },
            child,
        );
        for (const [suffix, role] of [
            ["receiver", receiver],
            ["monitor", monitor],
        ] as const) {
            new postgresql.Grant(
                `${name}-${suffix}-connect`,
                { database: cfg.postgres.database, role: role.name, objectType: "database", privileges: ["CONNECT"] },
                child,
            );
        }
        new postgresql.Schema(
            `${name}-receiver-schema`,
            { database: cfg.postgres.database, name: cfg.receiverRole.name, owner: receiver.name },
            child,
        );

        const databaseTimeout = new DatabaseSetting(
            `${name}-database-statement-timeout`,
            { connection: admin, database: cfg.postgres.database, name: "statement_timeout", value: cfg.receiverRole.statementTimeout },
            { parent: this },
        );

        this.statementTimeout = databaseTimeout.value;
        this.registerOutputs({ statementTimeout: this.statementTimeout });
    }
}
