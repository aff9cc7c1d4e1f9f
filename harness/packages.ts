import * as fs from "fs";
import * as path from "path";
import { run } from "./run";
import { PROJECT_DIR } from "../runtime/projectDir";

/** The one list of Debian packages; scripts/setup.sh installs from it too. */
export const PACKAGE_LIST = path.join(PROJECT_DIR, "scripts", "debian-packages.txt");

export type PackageGroup = "tier" | "test";

/** Package names of a group, in the list's order. */
export function debianPackages(group: PackageGroup, listFile = PACKAGE_LIST): string[] {
    return fs
        .readFileSync(listFile, "utf8")
        .split("\n")
        .map((line) => line.replace(/#.*/, "").trim().split(/\s+/))
        .filter(([name, which]) => name && which === group)
        .map(([name]) => name as string);
}

/** The packages dpkg does not report as installed (unknown names count as missing). */
export async function missingPackages(names: readonly string[]): Promise<string[]> {
    const result = await run("dpkg-query", ["-W", "-f=${Package} ${db:Status-Status}\\n", ...names], { timeoutMs: 30_000 }).catch(
        (err: Error) => {
            throw new Error(`cannot ask dpkg which packages are installed (${err.message}): this needs Debian 12`);
        },
    );
    const installed = new Set(
        result.stdout
            .split("\n")
            .map((line) => line.split(" "))
            .filter(([, status]) => status === "installed")
            .map(([name]) => name),
    );
    return names.filter((name) => !installed.has(name));
}

/** The exact command that installs them, with sudo unless we are root. */
export function aptInstallLine(missing: readonly string[], isRoot = process.getuid?.() === 0): string {
    return `${isRoot ? "" : "sudo "}apt-get install -y --no-install-recommends ${missing.join(" ")}`;
}
