import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { Adoption, TierSecrets } from "../schema/schema";
import { RoleSpec, roleInputs } from "../model/roles";
import { DatabaseSetting, PostgresConnection } from "./databaseSetting";
import { caBundleFile } from "./caBundleFile";
import { EventsTable } from "./eventsTable";
import { COMPONENT_TYPES, RESOURCE_NAMES } from "../model/resources";

export interface PostgresSettingsArgs {
    /** The tier's roles in creation order (groups before their members), as tierRoles renders them. */
    readonly roles: readonly RoleSpec[];
    /** The roles granted CONNECT on the database, as rolesWithConnect renders them. */
    readonly connectRoles: readonly string[];
    /** The database the tier uses (postgres.database). */
    readonly database: string;
    /** The receivers' group role (receiverRole.name): the schema has its name. */
    readonly receiverRole: string;
    /** The NOLOGIN role owning that schema and its tables (schemaOwnerRole). */
    readonly schemaOwner: string;
    /** The events table, its owner and the group role's privileges, as renderEventsTableSql renders them for database.sql. */
    readonly eventsTableSql: readonly string[];
    /** The database-wide statement_timeout, as databaseTimeoutSetting renders it. */
    readonly databaseSetting: { readonly database: string; readonly name: string; readonly value: string };
    /** What the stack takes over instead of creating: roles by name, the database setting (adopt.roles, adopt.databaseSetting). */
    readonly adopt: Pick<Adoption, "roles">;
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
export function adoptionOptions(cfg: { readonly adopt: Pick<Adoption, "roles"> }, spec: RoleSpec): pulumi.CustomResourceOptions {
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

    constructor(
        private readonly name: string,
        args: PostgresSettingsArgs,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super(COMPONENT_TYPES.postgresSettings, name, {}, opts);
        const admin = pulumi.output(args.admin);
        const provider = this.provider(admin);
        const roles = this.roles(args, provider);
        this.grantsAndSchema(args, provider, roles, admin);
        const databaseTimeout = new DatabaseSetting(
            `${name}-database-statement-timeout`,
            { connection: admin, ...args.databaseSetting },
            // Never imported: the engine would call the provider's read without its code (pulumi/pulumi#3550).
            { parent: this },
        );

        this.statementTimeout = databaseTimeout.value;
        this.registerOutputs({ statementTimeout: this.statementTimeout });
    }

    /** The PostgreSQL provider, connected as the admin; it never needs to be a superuser. */
    private provider(admin: pulumi.Output<PostgresConnection>): postgresql.Provider {
        return new postgresql.Provider(
            RESOURCE_NAMES.postgresProvider(this.name),
            {
                host: admin.host,
                port: admin.port,
                username: admin.user,
                password: pulumi.secret(admin.password),
                database: admin.database,
                sslmode: admin.sslmode,
                sslrootcert: admin.apply((a) => (a.sslrootcert === undefined ? undefined : caBundleFile(a.sslrootcert, a.password))),
                superuser: false,
            },
            { parent: this },
        );
    }

    /** Each role after the groups it is a member of. */
    private roles(args: PostgresSettingsArgs, provider: postgresql.Provider): postgresql.Role[] {
        const roles = new Map<string, postgresql.Role>();
        for (const spec of args.roles) {
            const groups = spec.memberOf.flatMap((group) => roles.get(group) ?? []);
            roles.set(
                spec.name,
                this.role(spec, args.secrets, { parent: this, provider, dependsOn: groups, ...adoptionOptions(args, spec) }),
            );
        }
        return [...roles.values()];
    }

    /**
     * CONNECT for the roles that need it and none for PUBLIC (nor TEMPORARY), the receivers' schema and
     * its events table, once every role exists: what database.sql does.
     */
    private grantsAndSchema(
        args: PostgresSettingsArgs,
        provider: postgresql.Provider,
        roles: postgresql.Role[],
        admin: pulumi.Output<PostgresConnection>,
    ): void {
        const afterRoles = () => ({ parent: this, provider, dependsOn: [...roles] });
        // An empty privilege list revokes every database privilege PostgreSQL grants PUBLIC (CONNECT, TEMPORARY).
        new postgresql.Grant(
            `${this.name}-public-database`,
            { database: args.database, role: "public", objectType: "database", privileges: [] },
            afterRoles(),
        );
        for (const roleName of args.connectRoles) {
            new postgresql.Grant(
                `${this.name}-${roleName}-connect`,
                { database: args.database, role: roleName, objectType: "database", privileges: ["CONNECT"] },
                afterRoles(),
            );
        }
        const schema = new postgresql.Schema(
            `${this.name}-receiver-schema`,
            { database: args.database, name: args.receiverRole, owner: args.schemaOwner },
            afterRoles(),
        );
        new EventsTable(
            `${this.name}-events-table`,
            { connection: admin.apply((a) => ({ ...a, database: args.database })), statements: args.eventsTableSql },
            { parent: this, dependsOn: [schema, ...roles] },
        );
    }

    private role(spec: RoleSpec, secrets: pulumi.Output<TierSecrets>, opts: pulumi.CustomResourceOptions): postgresql.Role {
        const password = spec.password;
        return new postgresql.Role(
            RESOURCE_NAMES.role(this.name, spec.name),
            // Same pre-hashed secret as userlist.txt: PostgreSQL stores it as given.
            roleInputs(spec, password ? pulumi.secret(secrets.apply(password)) : undefined),
            opts,
        );
    }
}
