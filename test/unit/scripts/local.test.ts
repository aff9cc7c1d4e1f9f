import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { parseTierConfig } from "../../../components/config/load";
import { readStackFile } from "../../../components/config/stackFile";
import { postgresEndpoint, renderEndpoints } from "../../../components/model/endpoints";
import { debianPackages, PACKAGE_LIST } from "../../../harness/packages";
import { mergeConfig } from "../../../harness/stack";
import { PROJECT_DIR } from "../../../runtime/projectDir";
import { localStackOutputs } from "../../../components/model/outputs";
import { formatStackOutputs, tryItCommands } from "../../../harness/tryIt";
import { portBaseOverrides, publishedPorts } from "../../../harness/publishedPorts";

const raw = readStackFile(PROJECT_DIR, "local").raw;
const cfg = parseTierConfig(raw).config;
const portOf = (endpoint: string) => Number(endpoint.split(":").at(-1));

describe("npm run local: ports", () => {
    it("listens where `npm run verify -- --stack local` looks by default (the stack's outputs)", () => {
        const ports = publishedPorts(cfg);
        const outputs = renderEndpoints(cfg);
        expect(ports.postgres).toBe(portOf(postgresEndpoint(cfg)));
        expect(ports.pgbouncer).toBe(portOf(outputs.pgbouncerEndpoint));
        expect(ports.receiver).toBe(Number(new URL(outputs.healthUrl).port));
    });

    it("moves all three ports and the outputs with --port-base", () => {
        const moved = parseTierConfig(mergeConfig(raw, portBaseOverrides(21000))).config;
        expect(publishedPorts(moved)).toEqual({ postgres: 21000, pgbouncer: 21001, receiver: 21002 });
        const outputs = localStackOutputs(moved, "5s");
        expect(outputs.pgbouncerEndpoint).toBe("127.0.0.1:21001");
        expect(new URL(outputs.healthUrl).port).toBe("21002");
        expect(outputs.showPoolsCommand).toContain("-p 21001");
    });
});

describe("npm run local: printed outputs", () => {
    const outputs = localStackOutputs(cfg, "5s");

    it("lays them out as `pulumi stack output` does: sorted, structured values as JSON", () => {
        const lines = formatStackOutputs(outputs).split("\n");
        expect(lines[0]).toBe(`Current stack outputs (${Object.keys(outputs).length}):`);
        const rows = lines.slice(2).map((line) => /^ {4}(\w+) +(.*)$/.exec(line));
        const names = rows.map((m) => m?.[1]);
        expect(names).toEqual(Object.keys(outputs).sort());
        for (const m of rows) {
            const value = outputs[m?.[1] as keyof typeof outputs];
            expect(typeof value === "string" ? m?.[2] : JSON.parse(m?.[2] as string)).toEqual(value);
        }
    });

    it("offers a curl that posts JSON to the receiver the health URL names", () => {
        const [, post] = tryItCommands(cfg, outputs, "npm run verify -- --stack local");
        const body = /-d '([^']*)'/.exec(post as string)?.[1] as string;
        expect(() => JSON.parse(body)).not.toThrow();
        expect(post).toMatch(new RegExp(`-X POST .* ${new URL(outputs.healthUrl).origin}/webhooks/[\\w.-]+$`));
    });

    it("never prints a password", () => {
        const printed = [formatStackOutputs(outputs), ...tryItCommands(cfg, outputs, "")].join("\n");
        const all = readStackFile(PROJECT_DIR, "local").all;
        const passwords = Object.entries(all)
            .filter(([key]) => /Password$/.test(key))
            .map(([, value]) => String(value));
        expect(passwords.length).toBeGreaterThan(0);
        for (const password of passwords) expect(printed).not.toContain(password);
    });
});

describe("Debian package list", () => {
    it("groups packages by what needs them, ignoring comments", () => {
        const list = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-pkgs-")), "list.txt");
        fs.writeFileSync(list, "# header\npostgresql-15 tier\n\nshellcheck   test  # lint\n  gunicorn tier\n");
        expect(debianPackages("tier", list)).toEqual(["postgresql-15", "gunicorn"]);
        expect(debianPackages("test", list)).toEqual(["shellcheck"]);
        fs.rmSync(path.dirname(list), { recursive: true });
    });

    it("is the list scripts/setup.sh installs from", () => {
        const setup = fs.readFileSync(path.join(PROJECT_DIR, "scripts", "setup.sh"), "utf8");
        expect(setup).toContain(path.relative(PROJECT_DIR, PACKAGE_LIST));
        expect(debianPackages("tier").length).toBeGreaterThanOrEqual(5);
    });
});
