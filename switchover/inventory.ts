import * as fs from "fs";
import { z } from "zod";

const hostName = z.string().regex(/^[A-Za-z0-9.-]+$/, "must be a host name or IP address");
const portNumber = z.int().min(1).max(65535);
const superuserUrl = z.string().regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL");

/** A PostgreSQL node of the pair: how the command reaches it as superuser, and where PgBouncer reaches it. */
const nodeSchema = z.strictObject({
    name: z.string().min(1),
    /** postgresql:// URL of a superuser connection (lag, LSNs, pg_promote). */
    url: superuserUrl,
    /** Host and port PgBouncer's [databases] entry uses for this node. */
    host: hostName,
    port: portNumber,
});

/**
 * What `npm run switchover` drives, in a JSON file (0600: its URLs may carry a password): every PgBouncer host's
 * console and pgbouncer.ini, the primary (with the command that stops it) and its standby. `npm run local --
 * --standby` writes one for the local tier.
 */
export const inventorySchema = z.strictObject({
    stack: z.string().min(1),
    pgbouncers: z
        .array(
            z.strictObject({
                name: z.string().min(1),
                /** Where its console (database "pgbouncer") listens. */
                host: hostName,
                port: portNumber,
                /** The pgbouncer.ini this PgBouncer reads: repointed in place, then RELOAD. */
                iniFile: z.string().min(1),
            }),
        )
        .min(1),
    primary: nodeSchema.extend({
        /** argv that stops the primary (e.g. pg_ctl -D <dir> stop -m fast -w as its service account). */
        stopCommand: z.array(z.string().min(1)).min(1),
    }),
    standby: nodeSchema,
});
export type Inventory = z.infer<typeof inventorySchema>;
export type PgbouncerHost = Inventory["pgbouncers"][number];
export type DatabaseNode = Inventory["standby"];

/** The inventory in `file`, or an error naming the file and each bad key. */
export function readInventory(file: string): Inventory {
    let json: unknown;
    try {
        json = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new Error(`switchover inventory ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const parsed = inventorySchema.safeParse(json);
    if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".") || "(top)"}: ${issue.message}`);
        throw new Error(`switchover inventory ${file}:\n${problems.join("\n")}`);
    }
    return parsed.data;
}

/** Writes an inventory only its owner can read. */
export function writeInventory(file: string, inventory: Inventory): void {
    fs.writeFileSync(file, JSON.stringify(inventorySchema.parse(inventory), null, 2) + "\n", { mode: 0o600 });
}
