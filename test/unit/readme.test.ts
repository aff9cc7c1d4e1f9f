import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { tierSchema } from "../../components/schema/schema";
import { benchCommand } from "../../scripts/bench";
import { benchDevCommand } from "../../scripts/benchDev";
import { localCommand } from "../../scripts/local";
import { importPlanCommand } from "../../scripts/importPlan";
import { preflightCommand } from "../../scripts/preflight";
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
        importPlanCommand.spec,
        preflightCommand.spec,
    ];

    it.each(commands.map((spec) => [spec.name, spec] as const))("lists every option of %s", (name, spec) => {
        const row = table.split("\n").find((line) => line.startsWith(`| \`npm run -s ${name} --\``));
        expect(row, `no row for ${name}`).toBeDefined();
        for (const option of Object.keys(spec.options)) expect(row, `${name} --${option}`).toMatch(new RegExp(`\`--${option}[ \`]`));
    });
});
