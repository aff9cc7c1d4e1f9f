import { describe, expect, it } from "vitest";
import { parseTierConfig } from "../../../../components/config/load";
import { TierConfig } from "../../../../components/schema/schema";
import { listStacks, lookupSecret, readStackFile } from "../../../../components/config/stackFile";
import { PROJECT_DIR } from "../../support/stackConfig";

/** Every scalar (and list) in a stack file's config, as [dotted path, value]. */
function leaves(node: unknown, prefix = ""): [string, unknown][] {
    if (typeof node !== "object" || node === null || Array.isArray(node)) return [[prefix, node]];
    return Object.entries(node).flatMap(([key, child]) => leaves(child, prefix ? `${prefix}.${key}` : key));
}

function valueAt(config: TierConfig, dottedPath: string): unknown {
    return dottedPath.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], config);
}

/** Values chosen from each stack file, checked on the typed TierConfig. */
const expectations: Record<string, (cfg: TierConfig) => void> = {
    canary: (cfg) => {
        expect(cfg.platform).toBe("aws");
        expect(cfg.pgbouncer.hosts).toBe(2);
        expect(cfg.pgbouncer.settings.auth_type).toBe("scram-sha-256");
        expect(cfg.pgbouncer.settings.reserve_pool_timeout).toBe(1);
        expect(cfg.receiver.gunicorn).toMatchObject({ workers: 2, worker_class: "gthread", threads: 32 });
        expect(cfg.receiver.dbPool).toMatchObject({ max: 32, maxOverflow: 0 });
        expect(cfg.receiver.app).toMatchObject({ reference: true });
        expect(cfg.aws?.vpcId).toBe("vpc-0c0ffee0c0ffee001");
    },
    prod: (cfg) => {
        expect(cfg.platform).toBe("aws");
        expect(cfg.pgbouncer.hosts).toBe(3);
        expect(cfg.pgbouncer.instanceType).toBe("t3.medium");
        expect(cfg.pgbouncer.settings.default_pool_size).toBe(25);
        expect(cfg.receiver.instances).toBe(6);
        expect(cfg.receiver.gunicorn).toMatchObject({ worker_class: "gthread", threads: 11 });
        expect(cfg.receiver.dbPool.max).toBe(11);
        expect(cfg.receiver.app.artifactUrl).toMatch(/^s3:\/\/.+\.tar\.gz$/);
        expect(cfg.receiver.app.reference).toBeUndefined();
        expect(cfg.postgres).toMatchObject({ maxConnections: 200, reservedForOtherClients: 60 });
        expect(cfg.aws?.privateSubnetIds).toHaveLength(3);
    },
    local: (cfg) => {
        expect(cfg.platform).toBe("docker");
        expect(cfg.aws).toBeUndefined();
        expect(cfg.pgbouncer.hosts).toBe(1);
        expect(cfg.postgres).toMatchObject({ host: "postgres", sslmode: "disable" });
        expect(cfg.pgbouncer.settings.server_tls_sslmode).toBe("disable");
        expect(cfg.docker).toMatchObject({ postgresImage: "postgres:15", pgbouncerHostPort: 6432, receiverHostPort: 8000 });
    },
};

describe("the project's stack files", () => {
    const stacks = listStacks(PROJECT_DIR);

    it("include canary, prod and local", () => {
        expect(stacks).toEqual(expect.arrayContaining(Object.keys(expectations)));
    });

    for (const stack of stacks) {
        describe(`Pulumi.${stack}.yaml`, () => {
            it("validates without errors or warnings", () => {
                const loaded = parseTierConfig(readStackFile(PROJECT_DIR, stack).raw);
                expect(loaded.warnings).toEqual([]);
            });

            it("reaches TierConfig with every value it sets unchanged", () => {
                const { raw } = readStackFile(PROJECT_DIR, stack);
                const config = parseTierConfig(raw).config;
                const written = leaves(raw);
                expect(written.length).toBeGreaterThan(0);
                for (const [dottedPath, value] of written) {
                    expect(valueAt(config, dottedPath), dottedPath).toEqual(value);
                }
            });

            it.runIf(stack in expectations)("carries its chosen values into TierConfig", () => {
                expectations[stack]?.(parseTierConfig(readStackFile(PROJECT_DIR, stack).raw).config);
            });
        });
    }

    it("keep secrets out of the validated config", () => {
        const local = readStackFile(PROJECT_DIR, "local");
        expect(local.all["receiver-tier:receiverPasswordA"]).toBe("local-dev-only-receiver-a");
        expect(local.raw).not.toHaveProperty("receiverPasswordA");
        expect(JSON.stringify(parseTierConfig(local.raw).config)).not.toContain("local-dev-only");
    });

    it("name the stacks that exist when asked for one that does not", () => {
        expect(() => readStackFile(PROJECT_DIR, "no-such-stack")).toThrow(/stacks here: .*canary/);
    });
});

describe("lookupSecret", () => {
    const canary = () => readStackFile(PROJECT_DIR, "canary");

    it("prefers PULUMI_CONFIG over the stack file", () => {
        const env = { PULUMI_CONFIG: JSON.stringify({ "receiver-tier:receiverPasswordA": "from-env" }) };
        expect(lookupSecret(canary(), "canary", "receiverPasswordA", env)).toEqual({ value: "from-env" });
        expect(lookupSecret(readStackFile(PROJECT_DIR, "local"), "local", "receiverPasswordA", env)).toEqual({ value: "from-env" });
    });

    it("reads a plain value from the stack file", () => {
        expect(lookupSecret(readStackFile(PROJECT_DIR, "local"), "local", "statsPasswordB", {})).toEqual({
            value: "local-dev-only-stats-b",
        });
    });

    it("reports a missing secret with the command that sets it", () => {
        const found = lookupSecret(canary(), "canary", "statsPasswordA", {});
        expect(found).toEqual({ missing: expect.stringContaining("receiver-tier:statsPasswordA is not set") });
        expect(found).toEqual({
            missing: expect.stringContaining("pulumi config set --secret receiver-tier:statsPasswordA --stack canary"),
        });
    });

    it("names PULUMI_CONFIG when it is not a JSON object", () => {
        for (const text of ["not json", '["a"]', "null"]) {
            expect(() => lookupSecret(canary(), "canary", "statsPasswordA", { PULUMI_CONFIG: text })).toThrow(
                /PULUMI_CONFIG must be a JSON object/,
            );
        }
    });

    it("treats an encrypted value as missing offline", () => {
        const stackFile = { raw: {}, all: { "receiver-tier:monitorPassword": { secure: "v1:abc" } } };
        expect(lookupSecret(stackFile, "prod", "monitorPassword", {})).toEqual({
            missing: expect.stringContaining("encrypted in Pulumi.prod.yaml"),
        });
    });
});
