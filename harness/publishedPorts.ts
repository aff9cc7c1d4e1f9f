import * as fs from "fs";
import * as path from "path";
import { configKey } from "../components/schema/problems";
import { DockerSettings, TierConfig } from "../components/schema/schema";
import { DATA_DIR, isAlive, portFree, RawConfig, TierPorts } from ".";

type PortKey = keyof Pick<DockerSettings, "postgresHostPort" | "pgbouncerHostPort" | "receiverHostPort">;

/** The local stack publishes each program on a loopback port of its docker settings; --port-base shifts them in this order. */
const PUBLISHED: readonly { program: string; key: PortKey }[] = [
    { program: "PostgreSQL", key: "postgresHostPort" },
    { program: "PgBouncer", key: "pgbouncerHostPort" },
    // npm run local publishes nginx there (Gunicorn behind it on a free port); the Docker stack, Gunicorn itself.
    { program: "nginx", key: "receiverHostPort" },
];

/** Config overrides that move the published ports to base, base+1, base+2. */
export function portBaseOverrides(base: number): RawConfig {
    return { docker: Object.fromEntries(PUBLISHED.map(({ key }, offset) => [key, base + offset])) };
}

/** The ports the tier listens on: the stack's published ports. */
export function publishedPorts(cfg: TierConfig): TierPorts {
    const { postgresHostPort, pgbouncerHostPort, receiverHostPort } = cfg.docker;
    return { postgres: postgresHostPort, pgbouncer: pgbouncerHostPort, receiver: receiverHostPort };
}

/** A PostgreSQL an earlier, killed run left behind in the state dir, by its postmaster.pid. */
function leftoverPostmaster(stateDir: string): number | undefined {
    try {
        const pid = Number(fs.readFileSync(path.join(stateDir, DATA_DIR, "postmaster.pid"), "utf8").split("\n")[0]);
        return isAlive(pid) ? pid : undefined;
    } catch {
        return undefined;
    }
}

/** One message per published port something already listens on, naming the port and its config key. */
export async function busyPorts(cfg: TierConfig, stateDir: string): Promise<string[]> {
    const problems: string[] = [];
    for (const { program, key } of PUBLISHED) {
        const port = cfg.docker[key];
        if (await portFree(port)) continue;
        const leftover = program === "PostgreSQL" ? leftoverPostmaster(stateDir) : undefined;
        problems.push(
            `127.0.0.1:${port} (${program}, ${configKey(["docker", key])}) is in use` +
                (leftover
                    ? `: by the PostgreSQL of an earlier run that did not stop (pid ${leftover}; \`kill -INT ${leftover}\` stops it)`
                    : ""),
        );
    }
    return problems;
}
