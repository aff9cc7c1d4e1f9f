import { gzipSync } from "zlib";
import { describe, expect, it } from "vitest";
import { noSecretsInUserData, TYPES } from "../../../policy/rules";

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const gzipBase64 = (text: string) => gzipSync(text).toString("base64");

const CLEAN_CLOUD_CONFIG = [
    "#cloud-config",
    "write_files:",
    "  - path: /etc/receiver-tier/monitor.env",
    "    content: |",
    "      MONITOR_PASSWORD_PARAMETER=/receiver-tier/canary/monitor/password",
    "runcmd:",
    '  - [sh, -c, \'PGPASSWORD=$(aws ssm get-parameter --with-decryption --name "$P" --query Parameter.Value --output text) psql -c "select 1"\']',
    "  - [python3, -c, 'import os; connect(password=os.environ[\"DB_PASSWORD\"], user=settings.user)']",
    "",
].join("\n");

// md5 secret of admin / 1234: "md5" + md5("1234" + "admin").
const MD5_SECRET = "md545f2603610af569b6155c45067268c6b";
const SCRAM_VERIFIER = "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$c3RvcmVka2V5:c2VydmVya2V5";

const instance = (userData: string) => noSecretsInUserData(TYPES.instance, { userData });
const launchTemplate = (userData: string) => noSecretsInUserData(TYPES.launchTemplate, { userData });

describe("no-plaintext-secrets-in-user-data", () => {
    it("passes user data that fetches secrets at boot, plain and base64", () => {
        expect(instance(CLEAN_CLOUD_CONFIG)).toEqual([]);
        expect(launchTemplate(base64(CLEAN_CLOUD_CONFIG))).toEqual([]);
    });

    it("passes user data that only names the secret's variable", () => {
        expect(instance('DB_PASSWORD=\nexport DB_PASSWORD="${DB_PASSWORD}"\n[ "$PASSWORD" == "" ] && exit 1\n')).toEqual([]);
    });

    it("fails an md5 secret", () => {
        expect(instance(`psql -c "ALTER ROLE admin PASSWORD '${MD5_SECRET}'"`)).toEqual(
            expect.arrayContaining([expect.stringContaining("md5 password secret")]),
        );
    });

    it("fails a SCRAM verifier", () => {
        expect(instance(`echo '${SCRAM_VERIFIER}' > /tmp/v`)).toEqual([expect.stringContaining("SCRAM-SHA-256 verifier")]);
    });

    it("fails a PgBouncer userlist line", () => {
        expect(instance('cat > /etc/pgbouncer/userlist.txt <<EOF\n"webhook_receiver" "hunter2"\nEOF\n')).toEqual([
            expect.stringContaining("userlist line"),
        ]);
    });

    it.each([
        "DB_PASSWORD=hunter2",
        "PGPASSWORD='hunter2'",
        "password = hunter2",
        'export PASSWORD="hunter2"',
        "CREATE ROLE r LOGIN PASSWORD 'hunter2';",
    ])("fails the literal password in %s", (line) => {
        expect(instance(`#!/bin/sh\n${line}\n`)).toEqual([expect.stringContaining("literal value")]);
    });

    it("decodes base64 launch template user data", () => {
        expect(launchTemplate(base64(`#!/bin/sh\necho '"stats" "${MD5_SECRET}"' >> /etc/pgbouncer/userlist.txt\n`))).toEqual([
            expect.stringContaining("md5 password secret"),
            expect.stringContaining("userlist line"),
        ]);
    });

    it("decompresses gzip behind base64", () => {
        expect(launchTemplate(gzipBase64("#!/bin/sh\nDB_PASSWORD=hunter2 /opt/app/start\n"))).toEqual([
            expect.stringContaining("literal value"),
        ]);
    });

    it("finds a secret in a cloud-init write_files entry encoded gz+b64", () => {
        const userData = `#cloud-config\nwrite_files:\n  - path: /etc/pgbouncer/userlist.txt\n    encoding: gz+b64\n    content: ${gzipBase64(`"webhook_receiver" "${SCRAM_VERIFIER}"\n`)}\n`;
        expect(launchTemplate(gzipBase64(userData))).toEqual([
            expect.stringContaining("SCRAM-SHA-256 verifier"),
            expect.stringContaining("userlist line"),
        ]);
    });

    it("checks Instance.userDataBase64 too", () => {
        expect(noSecretsInUserData(TYPES.instance, { userDataBase64: gzipBase64("PASSWORD=hunter2\n") })).toEqual([
            expect.stringMatching(/^userDataBase64 contains/),
        ]);
    });

    it("never repeats the secret in its message", () => {
        expect(instance(`DB_PASSWORD=${MD5_SECRET}\n`).join("\n")).not.toContain(MD5_SECRET);
    });

    it("ignores resources without user data", () => {
        expect(noSecretsInUserData(TYPES.instance, {})).toEqual([]);
        expect(noSecretsInUserData(TYPES.volume, { userData: "PASSWORD=hunter2" })).toEqual([]);
    });
});
