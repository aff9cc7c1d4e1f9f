import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { durationToMs } from "../../../components/schema/duration";
import { hasPlatformSection, tierSchema } from "../../../components/schema/schema";
import { renderPgbouncerIni } from "../../../components/render/pgbouncerIni";
import { POLICY_RULES } from "../../../policy/policies";
import { DATABASE_INGRESS_DEFAULTS, pgbouncerTransactionPooling, STATEMENT_TIMEOUT_DEFAULTS, TYPES } from "../../../policy/rules";

// The policy pack's defaults are what a stack gets when it sets nothing: a stack on the schema's
// defaults passes the pack with the pack's defaults, and the documented policy config says the same.

// Docker needs no platform section, so the schema's output is a whole TierConfig.
const parsed = tierSchema.parse({ platform: "docker" });
if (!hasPlatformSection(parsed)) throw new Error("platform docker has no section of its own");
const bare = parsed;

describe("policy defaults follow the schema's defaults", () => {
    it("no-world-open-database-ingress guards the default PostgreSQL and PgBouncer ports", () => {
        expect(DATABASE_INGRESS_DEFAULTS.databasePorts).toEqual([bare.postgres.port, bare.pgbouncer.port]);
    });

    it("receiver-statement-timeout-capped checks the default role, capped at the default statement timeout", () => {
        expect(STATEMENT_TIMEOUT_DEFAULTS).toEqual({
            receiverRoleName: bare.receiverRole.name,
            maxStatementTimeoutMs: durationToMs(bare.receiverRole.statementTimeout),
        });
    });

    it("pgbouncer-transaction-pooling admits the default pool mode", () => {
        const ini = renderPgbouncerIni(bare, "defaults");
        expect(
            pgbouncerTransactionPooling(TYPES.ssmParameter, { name: "/receiver-tier/defaults/pgbouncer/pgbouncer.ini", value: ini }),
        ).toEqual([]);
        const other = bare.pgbouncer.settings.pool_mode === "session" ? "statement" : "session";
        const changed = renderPgbouncerIni(
            { ...bare, pgbouncer: { ...bare.pgbouncer, settings: { ...bare.pgbouncer.settings, pool_mode: other } } },
            "x",
        );
        expect(pgbouncerTransactionPooling(TYPES.ssmParameter, { name: "/x/pgbouncer.ini", value: changed })).toHaveLength(1);
    });

    it("the pack's config schema shows the same defaults", () => {
        const schemaDefaults = Object.fromEntries(
            POLICY_RULES.map((rule) => [
                rule.name,
                Object.fromEntries(
                    Object.entries(rule.configSchema?.properties ?? {}).map(([key, p]) => [key, (p as { default?: unknown }).default]),
                ),
            ]),
        );
        expect(schemaDefaults["no-world-open-database-ingress"]).toEqual(DATABASE_INGRESS_DEFAULTS);
        expect(schemaDefaults["receiver-statement-timeout-capped"]).toEqual(STATEMENT_TIMEOUT_DEFAULTS);
    });

    it("docs/ci-and-policy.md's example policy config is the defaults", () => {
        const doc = fs.readFileSync(path.resolve(__dirname, "../../../docs/ci-and-policy.md"), "utf8");
        const example = /`policy-config.json` overrides the defaults[\s\S]*?```json\n([\s\S]*?)```/.exec(doc);
        expect(example, "the policy-config.json example").not.toBeNull();
        expect(JSON.parse((example as RegExpExecArray)[1] as string)).toEqual({
            "receiver-statement-timeout-capped": STATEMENT_TIMEOUT_DEFAULTS,
            "no-world-open-database-ingress": DATABASE_INGRESS_DEFAULTS,
        });
    });
});
