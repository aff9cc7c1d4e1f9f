import { Inventory } from "../switchover/inventory";
import { PG_BIN } from "./postgres";
import { Tier } from "./runningTier";

/**
 * What `npm run switchover` drives for a tier started with a standby: its PgBouncer's console and running ini,
 * the primary (stopped by pg_ctl as the service account, as a host's systemd would) and the standby.
 */
export function tierInventory(tier: Tier, stack: string): Inventory {
    const { standby, postgres, pgbouncer, sandbox } = tier;
    if (standby === undefined) throw new Error("the tier runs no standby: start it with standby: true");
    const as = sandbox.account;
    return {
        stack,
        pgbouncers: [{ name: "pgbouncer", host: pgbouncer.host, port: pgbouncer.port, iniFile: pgbouncer.iniPath }],
        primary: {
            name: "primary",
            url: postgres.superuserUrl,
            host: postgres.host,
            port: postgres.port,
            stopCommand: [
                "setpriv",
                `--reuid=${as.uid}`,
                `--regid=${as.gid}`,
                "--clear-groups",
                `${PG_BIN}/pg_ctl`,
                "-D",
                postgres.dataDir,
                "-w",
                "-t",
                "30",
                "stop",
                "-m",
                "fast",
            ],
        },
        standby: { name: "standby", url: standby.superuserUrl, host: standby.host, port: standby.port },
    };
}
