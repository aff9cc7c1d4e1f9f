import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { tierSchema } from "../../components/schema/schema";
import { benchCommand } from "../../scripts/bench";
import { bootCommand } from "../../scripts/boot";
import { benchDevCommand } from "../../scripts/benchDev";
import { localCommand } from "../../scripts/local";
import { importPlanCommand } from "../../scripts/importPlan";
import { preflightCommand } from "../../scripts/preflight";
import { waitRollsCommand } from "../../scripts/waitRolls";
import { planCommand } from "../../scripts/plan";
import { renderCommand } from "../../scripts/render";
import { verifyCommand } from "../../scripts/verify";

const readme = fs.readFileSync(path.resolve(__dirname, "..", "..", "README.md"), "utf8");
const reference = readme.slice(readme.indexOf("## Config reference"), readme.indexOf("### Rules checked"));

function leaves(value: unknown, at: string[] = []): [string[], unknown][] {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        return Object.entries(value).flatMap(([key, v]) => leaves(v, [...at, key]));
    }
    return [[at, value]];
}

// Every key with a default, as the schema fills it for a bare aws stack.
const defaults = leaves(tierSchema.parse({ platform: "aws" })).filter(([key]) => key[0] !== "platform");

/** Lines of the reference that name a key: by its full path, or by its own name in a section's list. */
function linesNaming(key: string[]): string[] {
    const full = key.join(".");
    const own = key.at(-1) as string;
    return reference
        .split("\n")
        .filter((line) => line.includes(`\`${full}\``) || line.includes(`\`${own}\``) || line.includes(`/ \`${own}\``));
}

describe("README config reference", () => {
    it.each(defaults.map(([key, value]) => [key.join("."), key, value] as const))("documents %s with its default", (_name, key, value) => {
        const lines = linesNaming(key);
        expect(lines.length, `no line names ${key.join(".")}`).toBeGreaterThan(0);
        const shown = Array.isArray(value) ? `[${value.join(", ")}]` : String(value);
        expect(
            lines.some((line) => line.includes(`\`${shown}\``)),
            `${key.join(".")} default ${shown}`,
        ).toBe(true);
    });
});

describe("README command options", () => {
    const table = readme.slice(readme.indexOf("### Command options"), readme.indexOf("## Deploying with Pulumi"));
    const commands = [
        renderCommand.spec,
        planCommand.spec,
        verifyCommand.spec,
        benchCommand.spec,
        benchDevCommand.spec,
        localCommand.spec,
        bootCommand.spec,
        importPlanCommand.spec,
        preflightCommand.spec,
        waitRollsCommand.spec,
    ];

    it.each(commands.map((spec) => [spec.name, spec] as const))("lists every option of %s", (name, spec) => {
        const row = table.split("\n").find((line) => line.startsWith(`| \`npm run -s ${name} --\``));
        expect(row, `no row for ${name}`).toBeDefined();
        for (const option of Object.keys(spec.options)) expect(row, `${name} --${option}`).toMatch(new RegExp(`\`--${option}[ \`]`));
    });
});

describe("README layout", () => {
    const block = readme.slice(readme.indexOf("## Layout"), readme.indexOf("## Try it"));
    const code = block.slice(block.indexOf("```\n") + 4, block.lastIndexOf("```"));
    // First column of each entry line: a folder (ending in /) or a file.
    const entries = code
        .split("\n")
        .filter((line) => /^\S/.test(line))
        .map((line) => line.split(/\s+/)[0] as string);
    const root = path.resolve(__dirname, "..", "..");
    const tracked = (dir: string) =>
        fs
            .readdirSync(path.join(root, dir), { withFileTypes: true })
            .filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules")
            .map((entry) => `${dir ? `${dir}/` : ""}${entry.name}/`);

    it("comes before everything else the README explains", () => {
        expect(readme.indexOf("## Layout")).toBeLessThan(readme.indexOf("## Try it"));
    });

    it("lists every folder of the project and of components/", () => {
        const folders = [
            ...tracked("").filter((dir) => dir !== "components/" && dir !== "test/"),
            ...tracked("components"),
            "test/unit/",
            "test/integration/",
        ];
        expect(folders.filter((dir) => !entries.includes(dir))).toEqual([]);
    });

    it("lists the layers so that every import runs down the list", () => {
        const layerOf = (file: string) => {
            const index = entries.findIndex((entry) => (entry.endsWith("/") ? file.startsWith(entry) : file === entry));
            return index;
        };
        const sources: string[] = [];
        const walk = (dir: string) => {
            for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
                const rel = dir ? `${dir}/${entry.name}` : entry.name;
                if (entry.isDirectory()) {
                    if (!["node_modules", "test", "files", "docs"].includes(entry.name) && !entry.name.startsWith(".")) walk(rel);
                } else if (/\.(ts|cjs)$/.test(entry.name) && !rel.endsWith(".config.mts")) sources.push(rel);
            }
        };
        walk("");
        const upward: string[] = [];
        for (const file of sources) {
            const text = fs.readFileSync(path.join(root, file), "utf8");
            for (const match of text.matchAll(/(?:from |require\(|import\()"(\.{1,2}\/[^"]+)"/g)) {
                const target = path.relative(root, path.resolve(root, path.dirname(file), match[1] as string));
                const candidates = [`${target}.ts`, `${target}.cjs`, `${target}/index.ts`, target];
                const resolved = candidates.find((candidate) => fs.existsSync(path.join(root, candidate)));
                if (resolved === undefined) continue;
                const [from, to] = [layerOf(file), layerOf(resolved)];
                expect(from, `${file} is in no layer`).toBeGreaterThanOrEqual(0);
                if (to < from) upward.push(`${file} -> ${resolved}`);
            }
        }
        expect(upward).toEqual([]);
    });
});
