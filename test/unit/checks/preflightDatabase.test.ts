import { describe, expect, it } from "vitest";
import { AdminFacts, privilegeChecks, roleChanges } from "../../../checks/preflightDatabase";
import { tierRoles } from "../../../components/model/roles";
import { durationToMs } from "../../../components/schema/duration";
import { loadCanary } from "../support/stackConfig";

// The version rule the real PostgreSQL 15 of the integration tests cannot show: from 16 on, granting
// pg_monitor needs ADMIN OPTION on it, CREATEROLE alone no longer suffices.

const cfg = loadCanary();
const facts = (over: Partial<AdminFacts>): AdminFacts => ({
    serverVersionNum: 150000,
    superuser: false,
    createrole: true,
    monitorAdmin: false,
    ownsDatabase: true,
    createInDatabase: true,
    existingRoles: [],
    ...over,
});
const failed = (f: AdminFacts) =>
    privilegeChecks(cfg, "deployer", f)
        .filter((c) => !c.passed)
        .map((c) => c.name);

describe("ADMIN OPTION on pg_monitor", () => {
    it("is not asked of PostgreSQL 15, where CREATEROLE grants it", () => {
        expect(failed(facts({}))).toEqual([]);
    });

    it("is required on PostgreSQL 16+, unless superuser", () => {
        expect(failed(facts({ serverVersionNum: 160004 }))).toEqual([
            "admin user deployer (receiver-tier:postgres.adminUser) lacks ADMIN OPTION on pg_monitor, which PostgreSQL 16+ needs to grant it to receiver_monitor",
        ]);
        expect(failed(facts({ serverVersionNum: 160004, monitorAdmin: true }))).toEqual([]);
        expect(failed(facts({ serverVersionNum: 170000, superuser: true, createrole: false }))).toEqual([]);
    });
});

describe("roleChanges: what pulumi up changes on an adopted role", () => {
    const login = tierRoles(loadCanary()).find((role) => role.login);
    if (login === undefined) throw new Error("canary has no login role");

    it("sees nothing to change where the role already has what the stack sets, in milliseconds or units", () => {
        const same = {
            name: login.name,
            login: true,
            connectionLimit: login.connectionLimit ?? -1,
            settings: [
                `statement_timeout=${durationToMs(login.statementTimeout ?? "0")}`,
                ...(login.idleInTransactionSessionTimeout
                    ? [`idle_in_transaction_session_timeout=${login.idleInTransactionSessionTimeout}`]
                    : []),
                ...(login.assumeRole ? [`role=${login.assumeRole}`] : []),
            ],
            memberOf: [...login.memberOf].reverse(),
        };
        expect(roleChanges(login, same)).toEqual([]);
    });

    it("names each attribute that differs, from what it is to what the stack sets", () => {
        const hand = { name: login.name, login: false, connectionLimit: -1, settings: ["statement_timeout=0"], memberOf: [] };
        const changes = roleChanges(login, hand);
        expect(changes[0]).toBe("NOLOGIN -> LOGIN");
        expect(changes).toContain(`statement_timeout 0 -> ${login.statementTimeout}`);
        expect(changes).toContain(`member of [] -> [${[...login.memberOf].sort().join(", ")}]`);
    });
});
