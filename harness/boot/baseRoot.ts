import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { runChecked } from "../run";
import { AptSource, primaryArchive, renderSourcesList } from "./hostMirror";

// The cached Debian 12 root every booted host starts from (read-only lower layer of its overlay):
// debootstrap's minbase plus what an EC2 Debian AMI has that the user data relies on (systemd as init,
// cloud-init, locales, CA certificates). The packages the user data lists are NOT installed here:
// their .debs are only downloaded into apt's cache, so cloud-init still installs them at boot (as on
// EC2), from the archive's index, without fetching them again.

export const CACHE_DIR = "/var/cache/receiver-tier-boot";
const SUITE = "bookworm";
/** What a Debian cloud image brings that cloud-init and the host scripts expect. */
const BASE_PACKAGES = ["systemd", "systemd-sysv", "dbus", "cloud-init", "ca-certificates", "locales", "iproute2", "procps", "netbase"];
/** Bumped when the recipe changes in a way the key cannot see. */
const RECIPE = 1;

// cloud-init reads the NoCloud seed only (no probing of EC2's metadata); the harness configures the
// network from outside, as the VPC's DHCP would.
const CLOUD_CFG = "datasource_list: [ NoCloud, None ]\nnetwork: {config: disabled}\n";

export interface BaseRootRequest {
    /** Packages the user data lists: downloaded into the root's apt cache. */
    readonly userDataPackages: readonly string[];
    readonly sources: readonly AptSource[];
    readonly progress: (line: string) => void;
}

export interface BaseRoot {
    readonly dir: string;
    readonly key: string;
    readonly reused: boolean;
}

export function baseRootKey(request: Pick<BaseRootRequest, "userDataPackages" | "sources">): string {
    const material = { RECIPE, SUITE, BASE_PACKAGES, packages: [...request.userDataPackages].sort(), sources: request.sources, CLOUD_CFG };
    return createHash("sha256").update(JSON.stringify(material)).digest("hex").slice(0, 16);
}

/** Runs a command in the root (not booted, the host's network: the archive is reachable). */
async function inRoot(root: string, command: string): Promise<void> {
    await runChecked(
        "systemd-nspawn",
        ["--quiet", "--register=no", "--keep-unit", "--resolv-conf=copy-host", "-D", root, "/bin/sh", "-c", command],
        {
            timeoutMs: 900_000,
            env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" },
        },
    );
}

/** The cached root for these packages, built (about two minutes) when missing. */
export async function ensureBaseRoot(request: BaseRootRequest): Promise<BaseRoot> {
    const key = baseRootKey(request);
    const dir = path.join(CACHE_DIR, `base-${key}`);
    if (fs.existsSync(path.join(dir, ".receiver-tier-base-ready"))) {
        request.progress(`base root: reusing ${dir}`);
        return { dir, key, reused: true };
    }
    fs.mkdirSync(CACHE_DIR, { recursive: true, mode: 0o755 });
    const build = `${dir}.build-${process.pid}`;
    fs.rmSync(build, { recursive: true, force: true });
    const started = Date.now();
    try {
        request.progress(`base root: debootstrap --variant=minbase ${SUITE} into ${build}`);
        await runChecked("debootstrap", ["--variant=minbase", SUITE, build, primaryArchive(request.sources)], { timeoutMs: 900_000 });
        fs.writeFileSync(path.join(build, "etc/apt/sources.list"), renderSourcesList(request.sources));
        request.progress(`base root: installing ${BASE_PACKAGES.join(" ")}; downloading ${request.userDataPackages.join(" ")}`);
        const apt = "DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0";
        await inRoot(
            build,
            `set -e; ${apt} update; ${apt} install --no-install-recommends ${BASE_PACKAGES.join(" ")};` +
                ` ${apt} install --download-only ${request.userDataPackages.join(" ")};` +
                " sed -i 's/^# *en_US.UTF-8/en_US.UTF-8/' /etc/locale.gen; locale-gen",
        );
        fs.writeFileSync(path.join(build, "etc/cloud/cloud.cfg.d/90-receiver-tier-boot.cfg"), CLOUD_CFG);
        // Each host gets its own machine id at first boot (the config timer's offset derives from it).
        fs.writeFileSync(path.join(build, "etc/machine-id"), "");
        fs.rmSync(path.join(build, "var/lib/dbus/machine-id"), { force: true });
        fs.writeFileSync(path.join(build, ".receiver-tier-base-ready"), `${new Date().toISOString()}\n`);
        fs.rmSync(dir, { recursive: true, force: true });
        fs.renameSync(build, dir);
        request.progress(`base root: built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
        return { dir, key, reused: false };
    } catch (err) {
        fs.rmSync(build, { recursive: true, force: true });
        throw err;
    }
}
