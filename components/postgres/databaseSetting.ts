import * as pulumi from "@pulumi/pulumi";
import type { ClientConfig } from "pg";
import { clientTls } from "./clientTls";

/** How the dynamic provider reaches PostgreSQL (an admin that may ALTER DATABASE). */
export interface PostgresConnection {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly password: string;
    readonly database: string;
    readonly sslmode: string;
    /** PEM CA bundle for sslmode verify-ca / verify-full. */
    readonly sslrootcert?: string;
}

/** One `ALTER DATABASE ... SET name = value`, the resource's state. */
export interface DatabaseSettingState {
    readonly connection: PostgresConnection;
    readonly database: string;
    readonly name: string;
    readonly value: string;
}

// Plain async functions: the dynamic provider below and the integration tests call them alike.
// `require` at call time keeps the serialized provider self-contained.

/** node-postgres settings for an admin connection, TLS as its sslmode says (also used by preflight). */
export function clientConfig(conn: PostgresConnection): ClientConfig {
    return {
        host: conn.host,
        port: conn.port,
        user: conn.user,
        password: conn.password,
        database: conn.database,
        ssl: clientTls(conn),
        connectionTimeoutMillis: 10_000,
    };
}

/** One connection for `work`, closed afterwards whatever happened (a failed close adds nothing to report). */
export async function withClient<T>(config: import("pg").ClientConfig, work: (client: import("pg").Client) => Promise<T>): Promise<T> {
    const { Client } = require("pg") as typeof import("pg");
    const client = new Client(config);
    await client.connect();
    try {
        return await work(client);
    } finally {
        await client.end().catch(() => undefined);
    }
}

export async function setDatabaseSetting(s: DatabaseSettingState): Promise<void> {
    await withClient(clientConfig(s.connection), async (client) => {
        // ALTER DATABASE takes no bind parameters: quote with the driver's own escaping.
        await client.query(
            `ALTER DATABASE ${client.escapeIdentifier(s.database)} SET ${client.escapeIdentifier(s.name)} = ${client.escapeLiteral(s.value)}`,
        );
    });
}

/** The value stored in pg_db_role_setting for the whole database (any role), or undefined. */
export async function readDatabaseSetting(conn: PostgresConnection, database: string, name: string): Promise<string | undefined> {
    return withClient(clientConfig(conn), async (client) => {
        const result = await client.query<{ value: string }>(
            `SELECT split_part(setting, '=', 2) AS value
               FROM pg_db_role_setting s
               JOIN pg_database d ON d.oid = s.setdatabase
               CROSS JOIN LATERAL unnest(s.setconfig) AS setting
              WHERE d.datname = $1 AND s.setrole = 0 AND split_part(setting, '=', 1) = $2`,
            [database, name],
        );
        return result.rows[0]?.value;
    });
}

export async function resetDatabaseSetting(s: Omit<DatabaseSettingState, "value">): Promise<void> {
    await withClient(clientConfig(s.connection), async (client) => {
        await client.query(`ALTER DATABASE ${client.escapeIdentifier(s.database)} RESET ${client.escapeIdentifier(s.name)}`);
    });
}

/** The dynamic provider: set on create/update, read back for drift, reset on delete. */
export const databaseSettingProvider: pulumi.dynamic.ResourceProvider = {
    async diff(_id, olds: DatabaseSettingState, news: DatabaseSettingState) {
        const replaces = (["database", "name"] as const).filter((key) => olds[key] !== news[key]);
        const changes = replaces.length > 0 || olds.value !== news.value || olds.connection.host !== news.connection.host;
        return { changes, replaces, deleteBeforeReplace: true };
    },
    async create(inputs: DatabaseSettingState) {
        await setDatabaseSetting(inputs);
        return { id: `${inputs.database}/${inputs.name}`, outs: inputs };
    },
    async read(id, props: DatabaseSettingState) {
        const value = await readDatabaseSetting(props.connection, props.database, props.name);
        return { id, props: { ...props, value: value ?? "" } };
    },
    async update(_id, _olds: DatabaseSettingState, news: DatabaseSettingState) {
        await setDatabaseSetting(news);
        return { outs: news };
    },
    async delete(_id, props: DatabaseSettingState) {
        await resetDatabaseSetting(props);
    },
};

/** Inputs of a DatabaseSetting resource. */
export interface DatabaseSettingArgs {
    /** Admin connection; its password is kept secret in state. */
    readonly connection: pulumi.Input<PostgresConnection>;
    /** Database to configure. */
    readonly database: pulumi.Input<string>;
    /** Parameter name, e.g. statement_timeout. */
    readonly name: pulumi.Input<string>;
    /** Value as PostgreSQL stores it, e.g. 5s. */
    readonly value: pulumi.Input<string>;
}

/** `ALTER DATABASE <database> SET <name> = <value>`, which @pulumi/postgresql has no resource for. */
export class DatabaseSetting extends pulumi.dynamic.Resource {
    declare public readonly value: pulumi.Output<string>;

    constructor(name: string, args: DatabaseSettingArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            databaseSettingProvider,
            name,
            { ...args },
            { ...opts, additionalSecretOutputs: ["connection"] },
            "receiver-tier",
            "DatabaseSetting",
        );
    }
}
