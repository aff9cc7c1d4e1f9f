import { describe, expect, it } from "vitest";
import { receiverStatementTimeoutCapped, TYPES } from "../../../policy/rules";

const role = (props: Record<string, unknown>) => receiverStatementTimeoutCapped(TYPES.postgresRole, { login: true, ...props });

describe("receiver-statement-timeout-capped", () => {
    it("passes the runbook's 5 s", () => {
        expect(role({ name: "webhook_receiver_a", statementTimeout: 5000 })).toEqual([]);
    });

    it("fails a timeout above the cap", () => {
        expect(role({ name: "webhook_receiver_a", statementTimeout: 30000 })).toEqual([
            expect.stringContaining("30000 ms exceeds the 5000 ms cap"),
        ]);
    });

    it.each([0, undefined])("fails statementTimeout %s, which means no limit", (statementTimeout) => {
        expect(role({ name: "webhook_receiver_a", statementTimeout })).toEqual([expect.stringContaining("no limit")]);
    });

    it.each([
        ["5s", 0],
        ["4500ms", 0],
        ["6s", 1],
        ["1min", 1],
        ["0", 1],
    ])("checks the database-level statement_timeout %s against the cap", (value, violations) => {
        const props = { database: "deltacrown", name: "statement_timeout", value };
        expect(receiverStatementTimeoutCapped(TYPES.databaseSetting, props)).toHaveLength(violations);
    });

    it("leaves other database settings alone", () => {
        expect(
            receiverStatementTimeoutCapped(TYPES.databaseSetting, { database: "deltacrown", name: "lock_timeout", value: "1min" }),
        ).toEqual([]);
    });

    it("checks both alternating logins, so a rotation cannot lift the cap", () => {
        expect(role({ name: "webhook_receiver_b", statementTimeout: 30000 })).toEqual([expect.stringContaining("webhook_receiver_b")]);
        expect(role({ name: "webhook_receiver_b" })).toEqual([expect.stringContaining("no limit")]);
    });

    it("leaves other roles alone", () => {
        expect(role({ name: "receiver_monitor" })).toEqual([]);
    });

    it("uses the role name and cap from policy config", () => {
        const config = { receiverRoleName: "hooks", maxStatementTimeoutMs: 2000 };
        expect(receiverStatementTimeoutCapped(TYPES.postgresRole, { name: "hooks_a", statementTimeout: 2000 }, config)).toEqual([]);
        expect(receiverStatementTimeoutCapped(TYPES.postgresRole, { name: "hooks_a", statementTimeout: 2001 }, config)).toHaveLength(1);
        expect(receiverStatementTimeoutCapped(TYPES.postgresRole, { name: "webhook_receiver_a" }, config)).toEqual([]);
    });
});
