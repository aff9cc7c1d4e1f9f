import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { TierConfig, TierSecrets } from "../config/schema";
import { RoleSpec, rolesWithConnect, tierRoles, timeoutMs } from "../render/roles";
import { DatabaseSetting, PostgresConnection } from "./databaseSetting";
import { caBundleFile } from "./tls";

export interface PostgresSettingsArgs {
    /** Validated stack config. */
    readonly config: TierConfig;
    /** Tier passwords (secret); roles get their pre-hashed form. */
    readonly secrets: pulumi.Output<TierSecrets>;
    /** Admin connection the provider and the database-setting resource use (password secret). */
    readonly admin: pulumi.Input<PostgresConnection>;
}

/**
 * Pulumi's `import` for a role the stack takes over (adopt.roles). An import only succeeds when the
 * existing role already matches every input, so it changes nothing on the server. A password is the
 * exception: PostgreSQL keeps only its verifier and the provider (not a superuser) cannot read it back,
 * so the adopting update must not compare it; it keeps the password the role has (nothing is reset)
 * until the adopt entry is removed, and the next update sets the stack's. Roles without a password
 * ignore nothing.
 */
export function adoptionOptions(cfg: TierConfig, spec: RoleSpec): pulumi.CustomResourceOptions {
    const id = cfg.adopt.roles[spec.name];
    if (id === undefined) return {};
    return spec.password ? { import: id, ignoreChanges: ["password"] } : { import: id };
}

/**
 * The tier's roles (the receiver group and its two alternating logins, the stats names, the monitor),
 * their grants and the database statement_timeout: the same roles database.sql creates.
 */
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
                sslrootcert: admin.apply((a) => (a.sslrootcert === undefined ? undefined : caBundleFile(a.sslrootcert))),
                superuser: false,
            },
            { parent: this },
        );
        const child = { parent: this, provider };

        const roles = new Map<string, postgresql.Role>();
        for (const spec of tierRoles(cfg)) {
            const groups = spec.memberOf.flatMap((group) => roles.get(group) ?? []);
            roles.set(spec.name, this.role(name, spec, args.secrets, { ...child, dependsOn: groups, ...adoptionOptions(cfg, spec) }));
        }
        for (const roleName of rolesWithConnect(cfg)) {
            new postgresql.Grant(
                `${name}-${roleName}-connect`,
                { database: cfg.postgres.database, role: roleName, objectType: "database", privileges: ["CONNECT"] },
                { ...child, dependsOn: [...roles.values()] },
            );
        }
        new postgresql.Schema(
            `${name}-receiver-schema`,
            { database: cfg.postgres.database, name: cfg.receiverRole.name, owner: cfg.receiverRole.name },
            { ...child, dependsOn: [...roles.values()] },
        );

        const databaseTimeout = new DatabaseSetting(
            `${name}-database-statement-timeout`,
            { connection: admin, database: cfg.postgres.database, name: "statement_timeout", value: cfg.receiverRole.statementTimeout },
            { parent: this, import: cfg.adopt.databaseSetting },
        );

        this.statementTimeout = databaseTimeout.value;
        this.registerOutputs({ statementTimeout: this.statementTimeout });
    }

    private role(name: string, spec: RoleSpec, secrets: pulumi.Output<TierSecrets>, opts: pulumi.CustomResourceOptions): postgresql.Role {
        const password = spec.password;
        return new postgresql.Role(
            `${name}-role-${spec.name}`,
            {
                name: spec.name,
                login: spec.login,
                // Same pre-hashed secret as userlist.txt: PostgreSQL stores it as given.
                password: password ? pulumi.secret(secrets.apply(password)) : undefined,
                connectionLimit: spec.connectionLimit,
                statementTimeout: timeoutMs(spec.statementTimeout),
                idleInTransactionSessionTimeout: timeoutMs(spec.idleInTransactionSessionTimeout),
                roles: [...spec.memberOf],
                assumeRole: spec.assumeRole,
            },
            opts,
        );
    }
}
