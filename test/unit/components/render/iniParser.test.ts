import { describe, expect, it } from "vitest";
import { iniLines, iniSections } from "../../../../components/render/iniParser";
import { REFUSE_STANDBY_QUERY, renderPgbouncerIni } from "../../../../components/render/pgbouncerIni";
import { iniSettings, rewriteIni } from "../../../../harness/pgbouncer";
import { poolModeSettings } from "../../../../policy/pgbouncerIni";
import { parseIni } from "../../support/fileParsers";
import { loadCanary } from "../../support/stackConfig";

const text = [
    "; comment",
    "%include /etc/pgbouncer/extra.ini",
    "[Databases]",
    "db = host=pg port=5432 dbname=db pool_mode=session",
    "",
    "  [pgbouncer]  ",
    "# pool_mode = statement",
    "POOL_MODE = transaction",
    "pool_mode=session\r",
    "listen_port = 6432 ",
].join("\n");

describe("the one ini parser", () => {
    it("numbers meaningful lines, keeps names as written and trims values", () => {
        expect(iniLines(text)).toEqual([
            { kind: "other", number: 2, text: "%include /etc/pgbouncer/extra.ini" },
            { kind: "section", number: 3, name: "Databases" },
            { kind: "entry", number: 4, section: "Databases", key: "db", value: "host=pg port=5432 dbname=db pool_mode=session" },
            { kind: "section", number: 6, name: "pgbouncer" },
            { kind: "entry", number: 8, section: "pgbouncer", key: "POOL_MODE", value: "transaction" },
            { kind: "entry", number: 9, section: "pgbouncer", key: "pool_mode", value: "session" },
            { kind: "entry", number: 10, section: "pgbouncer", key: "listen_port", value: "6432" },
        ]);
    });

    it("reads names case-insensitively and lets a later key win, as PgBouncer does", () => {
        const sections = iniSections(text);
        expect([...sections.keys()]).toEqual(["databases", "pgbouncer"]);
        expect(sections.get("pgbouncer")?.get("pool_mode")).toBe("session");
    });

    it("is what the policy, the local harness and the test reader all read the rendered file with", () => {
        const ini = renderPgbouncerIni(loadCanary(), "canary");
        const strict = parseIni(ini);
        expect(Object.fromEntries(iniSettings(ini))).toEqual(strict.pgbouncer);
        expect(poolModeSettings(ini)).toEqual([{ where: "[pgbouncer] pool_mode", mode: "transaction", explicit: true }]);
    });

    it("the test reader refuses what the renderer never writes", () => {
        expect(() => parseIni("[a]\nx = 1\nx = 2\n")).toThrow("key x repeated");
        expect(() => parseIni("[a]\n[a]\n")).toThrow("section [a] repeated");
        expect(() => parseIni("x = 1\n")).toThrow("ini line 1: cannot read");
        expect(() => parseIni("[a]\n%include other.ini\n")).toThrow("ini line 2: cannot read");
    });
});

describe("rewriteIni (local harness)", () => {
    const to = {
        listenAddr: "127.0.0.1",
        listenPort: 16432,
        authFile: "/sandbox/userlist.txt",
        logfile: "/sandbox/pgbouncer.log",
        pidfile: "/sandbox/pgbouncer.pid",
        unixSocketDir: "/sandbox",
        serverHost: "127.0.0.1",
        serverPort: 15432,
    };

    it("changes only the listener, the paths and the server, line for line", () => {
        const ini = renderPgbouncerIni(loadCanary(), "canary");
        const before = ini.split("\n");
        const after = rewriteIni(ini, to).split("\n");
        expect(after).toHaveLength(before.length);
        const changed = after.flatMap((line, index) => (line === before[index] ? [] : [line]));
        expect(changed).toEqual([
            `deltacrown_receiver = host=127.0.0.1 port=15432 dbname=deltacrown connect_query='${REFUSE_STANDBY_QUERY}'`,
            "listen_addr = 127.0.0.1",
            "listen_port = 16432",
            "unix_socket_dir = /sandbox",
            "logfile = /sandbox/pgbouncer.log",
            "pidfile = /sandbox/pgbouncer.pid",
            "auth_file = /sandbox/userlist.txt",
        ]);
    });

    it("refuses an ini that lacks a key it must rewrite", () => {
        expect(() => rewriteIni("[databases]\ndb = host=x port=1\n[pgbouncer]\nlisten_addr = *\n", to)).toThrow("lacks listen_port");
    });
});
