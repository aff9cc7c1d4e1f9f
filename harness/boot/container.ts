import * as fs from "fs";
import * as path from "path";
import { childPids, isAlive, stopPid } from "../pids";
import { run, RunResult, startService, Service } from "../run";
import { sleep, waitFor } from "../wait";
import { onExitUndo, undoFor } from "./cleanup";
import { HostNetwork } from "./network";

// One booted host: an overlay of the cached base root (its own upper layer: what the host writes
// stays with the host across reboots), a NoCloud seed holding the launch template's user data
// unchanged, and systemd-nspawn booting it with systemd as PID 1 in the host's network namespace.

export interface ContainerSpec {
    readonly name: string;
    readonly instanceId: string;
    readonly baseRoot: string;
    readonly stateDir: string;
    /** The bytes EC2 would hand the instance (the gzip the launch template holds). */
    readonly userData: Buffer;
    readonly network: HostNetwork;
    /** /etc/hosts lines: the VPC's names and the AWS endpoints, as the VPC's resolver would answer. */
    readonly hosts: readonly string[];
    /** PEM of the CA the stand-in AWS's certificate chains to: into the trust store. */
    readonly awsCaPem: string;
    /** apt's proxy (the way to the archive). */
    readonly aptProxyUrl: string;
}

export interface Container {
    readonly name: string;
    readonly root: string;
    readonly address: string;
    /** When the current boot started (ms). */
    bootedAt(): number;
    /** Runs a command inside the booted host (all its namespaces), as root. */
    exec(command: string, timeoutMs?: number): Promise<RunResult>;
    /** systemctl is-active of each unit. */
    unitStates(units: readonly string[]): Promise<Record<string, string>>;
    /** Reboots the host: an orderly shutdown, then a new boot of the same root (its state kept). */
    reboot(): Promise<void>;
    stop(): Promise<void>;
}

function overlayMount(lower: string, dir: string): Promise<RunResult> {
    return run("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${lower},upperdir=${dir}/upper,workdir=${dir}/work`, `${dir}/root`], {
        timeoutMs: 30_000,
    });
}

function prepareRoot(spec: ContainerSpec, root: string): void {
    const write = (file: string, content: string | Buffer, mode = 0o644) => {
        const target = path.join(root, file);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, content, { mode });
    };
    write("var/lib/cloud/seed/nocloud/user-data", spec.userData, 0o600);
    write("var/lib/cloud/seed/nocloud/meta-data", `instance-id: ${spec.instanceId}\nlocal-hostname: ${spec.name}\n`);
    write("etc/hostname", `${spec.name}\n`);
    write("etc/hosts", ["127.0.0.1 localhost", `${spec.network.address} ${spec.name}`, ...spec.hosts, ""].join("\n"));
    // No resolver: every name a host needs is in /etc/hosts, as the VPC's private zone would answer it.
    write("etc/resolv.conf", "# receiver-tier boot harness: names come from /etc/hosts\n");
    write("usr/local/share/ca-certificates/receiver-tier-boot-aws.crt", spec.awsCaPem);
    const bundle = path.join(root, "etc/ssl/certs/ca-certificates.crt");
    fs.appendFileSync(bundle, spec.awsCaPem);
    write(
        "etc/apt/apt.conf.d/90receiver-tier-boot-proxy",
        `Acquire::http::Proxy "${spec.aptProxyUrl}";\nAcquire::https::Proxy "${spec.aptProxyUrl}";\n`,
    );
}

/** The container's PID 1 (systemd): nspawn's child. */
function containerInit(nspawnPid: number): number | undefined {
    return childPids(nspawnPid)[0];
}

export async function startContainer(spec: ContainerSpec): Promise<Container> {
    const dir = path.join(spec.stateDir, spec.name);
    for (const sub of ["upper", "work", "root"]) fs.mkdirSync(path.join(dir, sub), { recursive: true });
    const mounted = await overlayMount(spec.baseRoot, dir);
    if (mounted.code !== 0) throw new Error(`overlay mount of ${spec.name} failed: ${mounted.stderr}`);
    const root = path.join(dir, "root");
    const forgetMount = onExitUndo(`mount ${root}`, undoFor(`mount ${root}`));
    prepareRoot(spec, root);
    let service: Service | undefined;
    let started = 0;
    let stopping: Promise<void> | undefined;

    const boot = () => {
        started = Date.now();
        service = startService(
            "systemd-nspawn",
            [
                "--keep-unit",
                "--register=no",
                "--quiet",
                "-D",
                root,
                `--machine=${spec.name}`,
                `--hostname=${spec.name}`,
                "--boot",
                `--network-namespace-path=${spec.network.namespacePath}`,
                "--resolv-conf=off",
                "--timezone=off",
                "--link-journal=no",
                "--console=pipe",
            ],
            path.join(dir, "console.log"),
            { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", SYSTEMD_NSPAWN_TMPFS_TMP: "1" } },
        );
    };
    boot();
    const initPid = async () => waitFor(`PID 1 of ${spec.name}`, 30_000, () => (service ? containerInit(service.pid) : undefined), 50);

    const container: Container = {
        name: spec.name,
        root,
        address: spec.network.address,
        bootedAt: () => started,
        async exec(command, timeoutMs = 60_000) {
            const pid = await initPid();
            return run("nsenter", ["--target", String(pid), "--all", "--", "/bin/sh", "-c", command], { timeoutMs });
        },
        async unitStates(units) {
            const result = await container.exec(
                `for u in ${units.join(" ")}; do printf '%s %s\\n' "$u" "$(systemctl is-active "$u")"; done`,
            );
            return Object.fromEntries(
                result.stdout
                    .trim()
                    .split("\n")
                    .map((line) => line.split(" ") as [string, string]),
            );
        },
        async reboot() {
            const current = service;
            if (current === undefined) throw new Error(`${spec.name} is not running`);
            await container.exec("systemctl reboot", 30_000).catch(() => undefined);
            // nspawn ends with 133 when its container asks for a reboot; it does not restart it itself.
            const status = await Promise.race([current.exited, sleep(90_000).then(() => "timeout")]);
            if (status === "timeout") await stopPid(current.pid, "SIGKILL", 0);
            boot();
        },
        stop() {
            // One shutdown, however many callers (a retired host, then the tier's teardown) wait for it.
            stopping ??= (async () => {
                const current = service;
                if (current !== undefined && isAlive(current.pid)) {
                    // SIGTERM asks nspawn for an orderly shutdown of the container's systemd.
                    await stopPid(current.pid, "SIGTERM", 30_000).catch(() => undefined);
                }
                await run("umount", [root], { timeoutMs: 30_000 });
                if (fs.existsSync(path.join(root, "etc"))) await run("umount", ["-l", root], { timeoutMs: 30_000 });
                forgetMount();
                fs.rmSync(dir, { recursive: true, force: true });
            })();
            return stopping;
        },
    };
    return container;
}
