import { describe, expect, it } from "vitest";
import { AdminFacts, privilegeChecks } from "../../../checks/preflightDatabase";
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
