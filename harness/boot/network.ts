import * as fs from "fs";
import * as path from "path";
import { stopPid } from "../pids";
import { runChecked, run, startService, Service } from "../run";
import { waitFor } from "../wait";
import { PROJECT_DIR } from "../../runtime/projectDir";
import { TS_HOOK_NODE_ARGS } from "../../runtime/typeScriptChild";

// The boot's "VPC": a bridge in this machine's namespace carrying the gateway address (where the
// stand-in AWS, the apt proxy and PostgreSQL listen), and per host a network namespace of its own
// with one veth end as eth0 and its own address. No default route and no NAT: a host reaches the
// gateway's listeners and the other hosts, nothing else. 169.254.169.254 is answered inside each
// namespace by a relay to the stand-in's IMDS (linkLocalRelay.ts), as EC2's hypervisor answers it.

export const IMDS_ADDRESS = "169.254.169.254";

export interface BootNetwork {
    readonly bridge: string;
    readonly gateway: string;
    readonly prefix: string;
    addHost(name: string, index: number, imdsPort: number): Promise<HostNetwork>;
    stop(): Promise<void>;
}

export interface HostNetwork {
    readonly namespace: string;
    readonly namespacePath: string;
    readonly address: string;
    /** Runs a command in the host's network namespace (from this machine's file system). */
    exec(command: string, args: string[], timeoutMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

const ip = (args: string[]) => runChecked("ip", args, { timeoutMs: 15_000 });

/** Link names are at most 15 characters: a short run id keeps them unique per run. */
export function linkNames(runId: string, hostIndex: number): { bridge: string; hostSide: string; namespace: string } {
    return { bridge: `rtb${runId}`, hostSide: `rtv${runId}${hostIndex}`, namespace: `rtboot-${runId}-${hostIndex}` };
}

/** A /24 in 10.231.0.0/16 no interface of this machine uses yet. */
async function freePrefix(): Promise<string> {
    const used = (await ip(["-4", "-o", "addr", "show"])).stdout;
    for (let third = 10; third < 250; third++) {
        const prefix = `10.231.${third}`;
        if (!used.includes(` ${prefix}.`)) return prefix;
    }
    throw new Error("no free 10.231.x.0/24 for the boot network");
}

export async function createNetwork(runId: string, stateDir: string, cleanupLog: (line: string) => void): Promise<BootNetwork> {
    const prefix = await freePrefix();
    const { bridge } = linkNames(runId, 0);
    const gateway = `${prefix}.1`;
    const hosts: { namespace: string; relay?: Service }[] = [];
    await ip(["link", "add", bridge, "type", "bridge"]);
    cleanupLog(`link ${bridge}`);
    await ip(["addr", "add", `${gateway}/24`, "dev", bridge]);
    await ip(["link", "set", bridge, "up"]);

    return {
        bridge,
        gateway,
        prefix,
        async addHost(name, index, imdsPort) {
            const names = linkNames(runId, index);
            const address = `${prefix}.${10 + index}`;
            await ip(["netns", "add", names.namespace]);
            cleanupLog(`netns ${names.namespace}`);
            const entry: { namespace: string; relay?: Service } = { namespace: names.namespace };
            hosts.push(entry);
            await ip(["link", "add", names.hostSide, "type", "veth", "peer", "name", "eth0", "netns", names.namespace]);
            await ip(["link", "set", names.hostSide, "master", bridge, "up"]);
            const inNs = (args: string[]) => ip(["-n", names.namespace, ...args]);
            await inNs(["link", "set", "lo", "up"]);
            await inNs(["addr", "add", `${address}/24`, "dev", "eth0"]);
            await inNs(["link", "set", "eth0", "up"]);
            await inNs(["addr", "add", `${IMDS_ADDRESS}/32`, "dev", "lo"]);
            const log = path.join(stateDir, `relay-${name}.log`);
            entry.relay = startService(
                "ip",
                [
                    "netns",
                    "exec",
                    names.namespace,
                    process.execPath,
                    ...TS_HOOK_NODE_ARGS,
                    path.join(PROJECT_DIR, "harness", "boot", "linkLocalRelay.ts"),
                    IMDS_ADDRESS,
                    "80",
                    gateway,
                    String(imdsPort),
                ],
                log,
                { cwd: PROJECT_DIR },
            );
            await waitFor(
                `the IMDS relay of ${name}`,
                30_000,
                () => (fs.readFileSync(log, "utf8").includes("listening") ? true : undefined),
                100,
            );
            return {
                namespace: names.namespace,
                namespacePath: `/run/netns/${names.namespace}`,
                address,
                exec: (command, args, timeoutMs = 30_000) => run("ip", ["netns", "exec", names.namespace, command, ...args], { timeoutMs }),
            };
        },
        async stop() {
            for (const host of hosts.reverse()) {
                if (host.relay) await stopPid(host.relay.pid, "SIGTERM", 3000).catch(() => undefined);
                // Deleting the namespace deletes its veth pair.
                await run("ip", ["netns", "delete", host.namespace], { timeoutMs: 15_000 });
            }
            await run("ip", ["link", "delete", bridge], { timeoutMs: 15_000 });
        },
    };
}
