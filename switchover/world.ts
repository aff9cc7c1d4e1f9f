import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { ConsoleSession, SqlSession, SwitchoverWorld } from "./perform";
import { PgbouncerHost } from "./inventory";

const CONNECT_TIMEOUT_MS = 3000;

/** The console login the switchover uses on every PgBouncer (an admin_users login). */
export interface ConsoleLogin {
    readonly user: string;
    readonly password: string;
}

/** The real world: node-postgres connections, child processes, files. */
export function realWorld(login: ConsoleLogin): SwitchoverWorld {
    return {
        async console(host: PgbouncerHost): Promise<ConsoleSession> {
            const client = new Client({
                host: host.host,
                port: host.port,
                user: login.user,
                password: login.password,
                database: "pgbouncer",
                connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
            });
            client.on("error", () => undefined); // a dropped console connection surfaces as the command's failure
            await client.connect();
            return {
                async command(text, timeoutMs) {
                    let timer: NodeJS.Timeout | undefined;
                    const timeout = new Promise<never>((_, reject) => {
                        timer = setTimeout(() => reject(new Error(`${text} not answered within ${timeoutMs} ms`)), timeoutMs);
                    });
                    try {
                        await Promise.race([client.query(text), timeout]);
                    } finally {
                        clearTimeout(timer);
                    }
                },
                end: () => client.end(),
            };
        },
        async database(node): Promise<SqlSession> {
            const client = new Client({ connectionString: node.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
            client.on("error", () => undefined); // the primary going away is expected
            await client.connect();
            return {
                query: async (text, params) => (await client.query(text, params)).rows as Record<string, unknown>[],
                end: () => client.end(),
            };
        },
        run: (argv, timeoutMs) =>
            new Promise((resolve, reject) => {
                const [file, ...args] = argv;
                execFile(file as string, args, { timeout: timeoutMs }, (err, _stdout, stderr) =>
                    err ? reject(new Error(`${argv.join(" ")}: ${stderr.trim() || err.message}`)) : resolve(),
                );
            }),
        readFile: (file) => fs.readFileSync(file, "utf8"),
        replaceFile(file, text) {
            const staged = path.join(path.dirname(file), `.${path.basename(file)}.switchover`);
            const { mode, uid, gid } = fs.statSync(file);
            fs.writeFileSync(staged, text, { mode });
            fs.chownSync(staged, uid, gid);
            fs.renameSync(staged, file);
        },
        now: () => Date.now(),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    };
}
