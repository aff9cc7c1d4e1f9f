import { describe, expect, it } from "vitest";
import { pgbouncerTransactionPooling, TYPES } from "../../../policy/rules";

const ini = (...pgbouncerLines: string[]) =>
    [
        "[databases]",
        "deltacrown_receiver = host=postgres-primary.internal port=5432 dbname=deltacrown",
        "",
        "[pgbouncer]",
        ...pgbouncerLines,
        "",
    ].join("\n");

const parameter = (value: string, name = "/receiver-tier/canary/pgbouncer/pgbouncer.ini") =>
    pgbouncerTransactionPooling(TYPES.ssmParameter, { name, type: "String", value });
const container = (...uploads: Record<string, unknown>[]) =>
    pgbouncerTransactionPooling(TYPES.dockerContainer, { image: "pgbouncer", uploads });

describe("pgbouncer-transaction-pooling: SSM parameter", () => {
    it("passes pool_mode = transaction", () => {
        expect(parameter(ini("listen_port = 6432", "pool_mode = transaction"))).toEqual([]);
    });

    it("fails pool_mode = session", () => {
        expect(parameter(ini("pool_mode = session"))).toEqual([expect.stringContaining("sets pool_mode = session")]);
    });

    it("fails a missing pool_mode, which PgBouncer runs as session", () => {
        expect(parameter(ini("listen_port = 6432"))).toEqual([expect.stringContaining('default "session"')]);
    });

    it("ignores commented-out settings and takes the last of repeated keys", () => {
        expect(parameter(ini("; pool_mode = transaction", "# pool_mode = transaction"))).toHaveLength(1);
        expect(parameter(ini("pool_mode = transaction", "pool_mode = statement"))).toEqual([expect.stringContaining("statement")]);
    });

    it("reads keys and values case-insensitively, as PgBouncer does", () => {
        expect(parameter(ini("POOL_MODE = Transaction"))).toEqual([]);
    });

    it("fails a per-database pool_mode override", () => {
        const text = ini("pool_mode = transaction").replace("dbname=deltacrown", "dbname=deltacrown pool_mode=session");
        expect(parameter(text)).toEqual([expect.stringContaining("[databases] deltacrown_receiver sets pool_mode = session")]);
    });

    it("fails a file that %includes settings the policy cannot see", () => {
        expect(parameter(`%include /etc/pgbouncer/extra.ini\n${ini("pool_mode = transaction")}`)).toEqual([
            expect.stringContaining("%include"),
        ]);
    });

    it("ignores other parameters", () => {
        expect(parameter("pool_mode = session", "/receiver-tier/canary/pgbouncer/userlist.txt")).toEqual([]);
    });
});

describe("pgbouncer-transaction-pooling: Docker uploads", () => {
    it("passes an uploaded ini in transaction mode, and other uploads", () => {
        expect(
            container(
                { file: "/etc/pgbouncer/pgbouncer.ini", content: ini("pool_mode = transaction") },
                { file: "/etc/pgbouncer/userlist.txt", content: '"a" "b"' },
            ),
        ).toEqual([]);
    });

    it("fails an uploaded ini without pool_mode", () => {
        expect(container({ file: "/etc/pgbouncer/pgbouncer.ini", content: ini() })).toEqual([
            expect.stringMatching(/^upload \/etc\/pgbouncer\/pgbouncer.ini: /),
        ]);
    });

    it("decodes contentBase64", () => {
        const contentBase64 = Buffer.from(ini("pool_mode = session")).toString("base64");
        expect(container({ file: "/etc/pgbouncer/pgbouncer.ini", contentBase64 })).toHaveLength(1);
    });

    it("fails an ini uploaded from a source path it cannot read", () => {
        expect(container({ file: "/etc/pgbouncer/pgbouncer.ini", source: "./pgbouncer.ini" })).toEqual([
            expect.stringContaining("cannot be checked"),
        ]);
    });
});
