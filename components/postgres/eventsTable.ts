import * as pulumi from "@pulumi/pulumi";
import { clientConfig, PostgresConnection, withClient } from "./databaseSetting";

/** The receivers' schema objects as database.sql creates them: the rendered statements and where they run. */
export interface EventsTableState {
    readonly connection: PostgresConnection;
    /** renderEventsTableSql's statements, idempotent, run in one transaction. */
    readonly statements: readonly string[];
}

/** Runs the statements in one transaction (all or nothing; they are idempotent, so a re-run changes nothing). */
export async function applyEventsTable(s: EventsTableState): Promise<void> {
    await withClient(clientConfig(s.connection), async (client) => {
        await client.query("BEGIN");
        try {
            for (const statement of s.statements) await client.query(statement);
            await client.query("COMMIT");
        } catch (err) {
            await client.query("ROLLBACK").catch(() => undefined);
            throw err;
        }
    });
}

/**
 * The dynamic provider: @pulumi/postgresql has no table resource. Create and update run the statements;
 * delete keeps the table (it holds the webhooks: dropping it is an operator's decision, never a side effect).
 */
export const eventsTableProvider: pulumi.dynamic.ResourceProvider = {
    async diff(_id, olds: EventsTableState, news: EventsTableState) {
        const changes =
            JSON.stringify(olds.statements) !== JSON.stringify(news.statements) || olds.connection.host !== news.connection.host;
        return { changes };
    },
    async create(inputs: EventsTableState) {
        await applyEventsTable(inputs);
        return { id: "webhook_events", outs: inputs };
    },
    async update(_id, _olds: EventsTableState, news: EventsTableState) {
        await applyEventsTable(news);
        return { outs: news };
    },
    async delete() {
        // Kept on purpose (see above).
    },
};

export interface EventsTableArgs {
    /** Admin connection; its password is kept secret in state. */
    readonly connection: pulumi.Input<PostgresConnection>;
    /** renderEventsTableSql(cfg): the same statements database.sql holds. */
    readonly statements: pulumi.Input<readonly string[]>;
}

/** The receivers' events table, owned by the NOLOGIN owner role, with the group role's INSERT and SELECT. */
export class EventsTable extends pulumi.dynamic.Resource {
    constructor(name: string, args: EventsTableArgs, opts?: pulumi.CustomResourceOptions) {
        super(eventsTableProvider, name, { ...args }, { ...opts, additionalSecretOutputs: ["connection"] }, "receiver-tier", "EventsTable");
    }
}
