import * as path from "path";
import { loadStackConfig, lookupSecret, readStackFile } from "../components/config/stackFile";
import { adminLogins } from "../components/model/logins";
import { pgbouncerServesTls } from "../components/model/tlsModes";
import { MIN_PAUSE_TIMEOUT_MS, pauseTimeoutMs } from "../switchover/budget";
import { readInventory } from "../switchover/inventory";
import { performSwitchover, SwitchoverLimits } from "../switchover/perform";
import { describeSwitchover, formatResult } from "../switchover/plan";
import { realWorld } from "../switchover/world";
import { command, flag, integer, main, optional, projectDirOption, required, text, UsageError, withDefault } from "./args";

/** The inventory `npm run local -- --standby` writes into its state dir. */
export const SWITCHOVER_INVENTORY = "switchover.json";
/** Where that is with the default state dir, relative to the project. */
export const LOCAL_INVENTORY = path.join(".local-tier", SWITCHOVER_INVENTORY);

export const switchoverCommand = command({
    spec: {
        name: "switchover",
        summary:
            "A planned switchover to the standby of a self-managed primary: checks replication, PAUSEs every PgBouncer (RESUME everywhere and stop on any failure), stops the primary, waits until the standby has its last WAL, promotes it, repoints every pgbouncer.ini and RELOADs, RESUMEs, and prints a timeline. Clients wait instead of failing.",
        options: {
            stack: required("<name>", "stack whose config and admin login to use (Pulumi.<name>.yaml)", text),
            inventory: optional(
                "<file>",
                `the PgBouncer hosts, primary and standby (JSON, README "Switchover"); default for stack local: ${LOCAL_INVENTORY} in the project`,
                text,
            ),
            "dry-run": flag("print the steps with their hosts, commands and limits; touch nothing"),
            "max-lag-bytes": withDefault("<n>", "refuse to start when the standby replays further behind", integer(0, 2 ** 40), "16777216"),
            "project-dir": projectDirOption,
        },
        examples: [
            "npm run -s switchover -- --stack local --dry-run",
            "npm run -s switchover -- --stack local",
            `PULUMI_CONFIG='{"receiver-tier:pgbouncerAdminPasswordA":"..."}' npm run -s switchover -- --stack canary --inventory pair.json`,
        ],
        exitCodes: ["1  the switchover failed or was aborted (the last line says what state it left)"],
    },
    async run(values, io) {
        const stackFile = readStackFile(values["project-dir"], values.stack);
        const { config } = loadStackConfig(stackFile);
        const inventoryFile =
            values.inventory ?? (values.stack === "local" ? path.join(values["project-dir"], LOCAL_INVENTORY) : undefined);
        if (inventoryFile === undefined) throw new UsageError(`--inventory is required for stack ${values.stack}`);
        const inventory = readInventory(inventoryFile);
        if (inventory.stack !== values.stack) {
            throw new UsageError(`${inventoryFile} describes stack ${inventory.stack}, not ${values.stack}`);
        }
        if (pgbouncerServesTls(config)) {
            throw new UsageError(
                `stack ${values.stack}'s PgBouncer serves TLS (pgbouncer.settings.client_tls_sslmode): the switchover's console connections do not verify TLS yet; run it on the PgBouncer hosts' own network`,
            );
        }
        const limits: SwitchoverLimits = {
            pauseTimeoutMs: pauseTimeoutMs(config),
            maxLagBytes: values["max-lag-bytes"],
            catchUpTimeoutMs: 5000,
            stopTimeoutMs: 30_000,
            promoteTimeoutSeconds: 30,
        };
        if (limits.pauseTimeoutMs < MIN_PAUSE_TIMEOUT_MS) {
            throw new UsageError(
                `pgbouncer.settings.query_wait_timeout ${config.pgbouncer.settings.query_wait_timeout} s leaves ${limits.pauseTimeoutMs} ms for PAUSE after the switch's own time: clients would be dropped while paused; raise it`,
            );
        }
        if (values["dry-run"]) {
            io.stdout(describeSwitchover(inventory, limits, config.pgbouncer.settings.query_wait_timeout) + "\n");
            return 0;
        }
        const login = adminLogins(config).active;
        const password = lookupSecret(stackFile, values.stack, login.passwordKey, process.env);
        if (!("value" in password)) throw new UsageError(`the admin login ${login.name} needs its password: ${password.missing}`);
        const result = await performSwitchover(inventory, limits, realWorld({ user: login.name, password: password.value }));
        io.stdout(formatResult(result) + "\n");
        return result.ok ? 0 : 1;
    },
});

if (require.main === module) main(switchoverCommand);
