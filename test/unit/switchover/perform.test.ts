import { describe, expect, it } from "vitest";
import { Inventory } from "../../../switchover/inventory";
import { CONSOLE_COMMANDS, performSwitchover, SwitchoverLimits, SwitchoverWorld } from "../../../switchover/perform";
import { describeSwitchover } from "../../../switchover/plan";
import { pauseTimeoutMs } from "../../../switchover/budget";
import { loadCanary } from "../support/stackConfig";

const INVENTORY: Inventory = {
    stack: "local",
    pgbouncers: [
        { name: "pgbouncer-1", host: "127.0.0.1", port: 6432, iniFile: "/etc/pgbouncer-1.ini" },
        { name: "pgbouncer-2", host: "127.0.0.1", port: 6433, iniFile: "/etc/pgbouncer-2.ini" },
    ],
    primary: { name: "pg-a", url: "postgresql://postgres@127.0.0.1:5432/postgres", host: "10.0.0.1", port: 5432, stopCommand: ["stop-a"] },
    standby: { name: "pg-b", url: "postgresql://postgres@127.0.0.1:5433/postgres", host: "10.0.0.2", port: 5433 },
};
const LIMITS: SwitchoverLimits = {
    pauseTimeoutMs: 1500,
    maxLagBytes: 1000,
    catchUpTimeoutMs: 100,
    stopTimeoutMs: 1000,
    promoteTimeoutSeconds: 5,
};
const INI = "[databases]\ndeltacrown_receiver = host=10.0.0.1 port=5432 dbname=deltacrown\n\n[pgbouncer]\nlisten_port = 6432\n";

interface Scenario {
    lagBytes?: number;
    /** Console command -> host names where it fails. */
    refuse?: Partial<Record<string, readonly string[]>>;
    /** The standby never receives the primary's last WAL. */
    neverCatchesUp?: boolean;
}

/** A world that records every action in order, with the scenario's faults. */
function fakeWorld(scenario: Scenario = {}) {
    const actions: string[] = [];
    const files = new Map(INVENTORY.pgbouncers.map((h) => [h.iniFile, INI]));
    let clock = 0;
    const world: SwitchoverWorld = {
        async console(host) {
            return {
                async command(text) {
                    actions.push(`${host.name}: ${text}`);
                    if (scenario.refuse?.[text]?.includes(host.name)) throw new Error(`${text} not answered within 1500 ms`);
                },
                end: async () => undefined,
            };
        },
        async database(node) {
            return {
                async query(text) {
                    if (/pg_promote/.test(text)) {
                        actions.push(`${node.name}: promote`);
                        return [{ promoted: true }];
                    }
                    if (/caught_up/.test(text)) return [{ caught_up: !scenario.neverCatchesUp }];
                    if (/lag_bytes/.test(text))
                        return [{ recovery: true, receiver: "streaming", lag_bytes: String(scenario.lagBytes ?? 0) }];
                    if (/sync_state/.test(text)) return [{ n: 1 }];
                    if (/pg_is_in_recovery/.test(text)) return [{ recovery: false, lsn: "0/3000060" }];
                    if (/pg_current_wal_lsn/.test(text)) return [{ lsn: "0/3000060" }];
                    throw new Error(`unexpected query ${text}`);
                },
                end: async () => undefined,
            };
        },
        async run(argv) {
            actions.push(`run ${argv.join(" ")}`);
        },
        readFile: (file) => files.get(file) as string,
        replaceFile(file, text) {
            actions.push(`write ${file}`);
            files.set(file, text);
        },
        now: () => (clock += 10),
        sleep: async () => undefined,
    };
    return { world, actions, files };
}

describe("npm run switchover", () => {
    it("pauses every PgBouncer, stops the primary, promotes the standby, repoints and reloads each, then resumes", async () => {
        const { world, actions, files } = fakeWorld();
        const result = await performSwitchover(INVENTORY, LIMITS, world);
        expect(result.ok, result.failure).toBe(true);
        expect(actions).toEqual([
            "pgbouncer-1: PAUSE",
            "pgbouncer-2: PAUSE",
            "run stop-a",
            "pg-b: promote",
            "write /etc/pgbouncer-1.ini",
            "pgbouncer-1: RELOAD",
            "write /etc/pgbouncer-2.ini",
            "pgbouncer-2: RELOAD",
            "pgbouncer-1: RESUME",
            "pgbouncer-2: RESUME",
        ]);
        for (const text of files.values()) expect(text).toContain("deltacrown_receiver = host=10.0.0.2 port=5433 dbname=deltacrown\n");
        expect(result.timeline.map((t) => t.what)).toContainEqual(expect.stringMatching(/promoted/));
    });

    it("aborts with RESUME everywhere, before touching the primary, when one PAUSE does not complete in time", async () => {
        const { world, actions, files } = fakeWorld({ refuse: { PAUSE: ["pgbouncer-2"] } });
        const result = await performSwitchover(INVENTORY, LIMITS, world);
        expect(result.ok).toBe(false);
        expect(result.failure).toMatch(/PAUSE did not complete \(pgbouncer-2: .*\); nothing was changed: pg-a is still the primary/);
        expect(actions).toEqual(["pgbouncer-1: PAUSE", "pgbouncer-2: PAUSE", "pgbouncer-1: RESUME", "pgbouncer-2: RESUME"]);
        for (const text of files.values()) expect(text).toBe(INI);
    });

    it("refuses to start, pausing nothing, when the standby replays too far behind", async () => {
        const { world, actions } = fakeWorld({ lagBytes: 5000 });
        const result = await performSwitchover(INVENTORY, LIMITS, world);
        expect(result.failure).toMatch(/pg-b replays 5000 bytes behind the primary \(at most 1000\)/);
        expect(actions).toEqual([]);
    });

    it("never promotes a standby that lacks the stopped primary's last WAL, and resumes so clients are answered", async () => {
        const { world, actions } = fakeWorld({ neverCatchesUp: true });
        const result = await performSwitchover(INVENTORY, LIMITS, world);
        expect(result.ok).toBe(false);
        expect(result.failure).toMatch(/did not receive WAL 0\/3000060 .*not promoted.*the primary pg-a is stopped/);
        expect(actions).not.toContain("pg-b: promote");
        expect(actions.slice(-2)).toEqual(["pgbouncer-1: RESUME", "pgbouncer-2: RESUME"]);
    });

    it("sends only the global PAUSE: `PAUSE <db>` with min_pool_size > 0 stalls for server_login_retry after RESUME (pgbouncer#420)", () => {
        expect(Object.values(CONSOLE_COMMANDS)).toEqual(["PAUSE", "RESUME", "RELOAD"]);
        const plan = describeSwitchover(INVENTORY, LIMITS, 3);
        expect(plan).toMatch(/PAUSE \(every database\)/);
        expect(plan).not.toMatch(/PAUSE [a-z_]+;/);
    });

    it("gives PAUSE what query_wait_timeout leaves after the switch itself, so paused clients are not dropped", () => {
        expect(pauseTimeoutMs(loadCanary())).toBe(1500);
    });
});
