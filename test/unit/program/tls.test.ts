import { verifyCommand } from "../../../scripts/verify";
import { runInProcess } from "../scripts/runScript";
import * as fs from "fs";
import { describe, expect, it } from "vitest";
import { parseTierConfig } from "../../../components/config/load";
import { readStackFile } from "../../../components/config/stackFile";
import { CONFIG_NAMESPACE, SECRET_KEYS } from "../../../components/schema/schema";
import { HOST_PATHS } from "../../../components/model/hostPaths";
import {
    byName,
    cloudInitFiles,
    isSecretValue,
    nonSecretStrings,
    plain,
    PROJECT_DIR,
    stackRun,
    PROGRAM_SECRETS,
    launchTemplateText,
} from "./mockTier";

// Verified TLS as the program places it: PostgreSQL's CA bundle and PgBouncer's certificate reach
// the hosts through SSM, the private key only as a secret, the CA in the receivers' user data.

describe.each(["canary", "prod"] as const)("TLS in stack %s", (stack) => {
    const { config } = parseTierConfig(readStackFile(PROJECT_DIR, stack).raw);

    it("verifies PostgreSQL and PgBouncer with verify-full, shipping the CA file and the stack's own certificate", async () => {
        const run = stackRun(stack);
        const inputs = (name: string) => plain(byName(run, name).inputs) as Record<string, any>;
        const ini = inputs(`${stack}-pgbouncer-ini`).insecureValue as string;
        expect(ini).toMatch(/^server_tls_sslmode = verify-full$/m);
        expect(ini).toContain(`server_tls_ca_file = ${HOST_PATHS.postgresCa}`);
        expect(ini).toMatch(/^client_tls_sslmode = require$/m);
        expect(ini).toContain(`client_tls_key_file = ${HOST_PATHS.pgbouncerTlsKey}`);
        expect(inputs(`${stack}-pgbouncer-postgres-ca`)).toMatchObject({ type: "String", insecureValue: config.postgres.caBundle });

        // PgBouncer's certificate names exactly the private DNS name receivers connect to, signed by the stack's CA.
        expect(inputs(`${stack}-pgbouncer-certs-request`).dnsNames).toEqual([config.pgbouncer.dnsName]);
        expect(inputs(`${stack}-pgbouncer-certs-cert`)).toMatchObject({
            caCertPem: `<certificate of ${stack}-pgbouncer-certs-ca>`,
            allowedUses: expect.arrayContaining(["server_auth"]),
        });
        expect(inputs(`${stack}-pgbouncer-certs-ca`).isCaCertificate).toBe(true);
        const key = byName(run, `${stack}-pgbouncer-tls-key`);
        expect(isSecretValue(key.inputs.value)).toBe(true);
        expect(plain(key.inputs)).toMatchObject({ type: "SecureString", value: `<private key of ${stack}-pgbouncer-certs-key>` });

        const userData = launchTemplateText(inputs(`${stack}-receivers-hosts-lt`).userData);
        const written = cloudInitFiles(userData);
        expect(written.get(HOST_PATHS.receiverPgbouncerCa)).toBe(`<certificate of ${stack}-pgbouncer-certs-ca>`);
        expect(written.get(HOST_PATHS.receiverEnv)).toMatch(/^DB_SSLMODE=verify-full$/m);

        expect(inputs(`${stack}-postgres-provider`)).toMatchObject({ sslmode: "verify-full" });
        expect(fs.readFileSync(inputs(`${stack}-postgres-provider`).sslrootcert as string, "utf8")).toBe(config.postgres.caBundle);
        expect(inputs(`${stack}-postgres-database-statement-timeout`).connection).toMatchObject({
            sslmode: "verify-full",
            sslrootcert: config.postgres.caBundle,
        });

        // No private key outside a Pulumi secret, in any input or output.
        const leaks = run.resources.flatMap((r) =>
            nonSecretStrings(r.inputs)
                .filter(([, text]) => text.includes("<private key of"))
                .map(([at]) => `${r.name} ${at}`),
        );
        expect(leaks).toEqual([]);
        expect(JSON.stringify(run.outputs)).not.toContain("<private key of");
        // Operators and `npm run verify --pgbouncer-ca` get the CA clients verify against.
        expect(run.outputs.pgbouncerCa).toBe(`<certificate of ${stack}-pgbouncer-certs-ca>`);
    });
});

describe("npm run verify against a tier whose PgBouncer serves TLS", () => {
    it("asks for PgBouncer's CA instead of connecting unverified", async () => {
        const secrets = Object.fromEntries(SECRET_KEYS.map((key) => [`${CONFIG_NAMESPACE}:${key}`, PROGRAM_SECRETS[key]]));
        const result = await runInProcess(verifyCommand, ["--stack", "canary"], { ...process.env, PULUMI_CONFIG: JSON.stringify(secrets) });
        expect(result.status).toBe(2);
        expect(result.stderr).toContain("give its CA with --pgbouncer-ca FILE");
    });
});
