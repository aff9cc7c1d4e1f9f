import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { namespaceProblems } from "../../../../components/config/namespaces";
import { ConfigError } from "../../../../components/schema/problems";
import { CONFIG_NAMESPACE, TIER_SECRET_KEYS } from "../../../../components/schema/schema";
import { MIN_PASSWORD_LENGTH } from "../../../../components/config/secretStrength";
import { closest, editDistance } from "../../../../components/schema/spelling";
import { loadStackConfig, MissingSecretsError, readStackFile, readTierSecrets } from "../../../../components/config/stackFile";
import { PROJECT_DIR, pulumiConfigJson } from "../../support/stackConfig";

const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), "receiver-tier-stackfile-"));
afterAll(() => fs.rmSync(tempRoot, { recursive: true, force: true }));

let projects = 0;
/** A project folder holding one stack file with the given text; returns its directory. */
function projectWith(stack: string, text: string): string {
    const dir = path.join(tempRoot, `project-${++projects}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
    return dir;
}

/** A copy of a real stack file with `edit` applied to its whole config map. */
function editedStack(stack: string, edit: (config: Record<string, any>) => void): string {
    const config = structuredClone(readStackFile(PROJECT_DIR, stack).all) as Record<string, any>;
    edit(config);
    return projectWith(stack, stringify({ config }));
}

function refused(load: () => unknown): ConfigError {
    try {
        load();
    } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return err as ConfigError;
    }
    throw new Error("expected a ConfigError");
}

describe("spelling hints", () => {
    it("measure edit distance and pick the nearest candidate", () => {
        expect(editDistance("reciever-tier", "receiver-tier")).toBe(2);
        expect(editDistance("", "abc")).toBe(3);
        expect(closest("fromat", ["stack", "format", "diff"])).toBe("format");
        expect(closest("x", [])).toBeUndefined();
    });
});

describe("stack file namespaces", () => {
    it("refuses prod with a misspelt namespace, naming the key and the namespace meant", () => {
        const dir = editedStack("prod", (config) => {
            config["reciever-tier:pgbouncer"] = config[`${CONFIG_NAMESPACE}:pgbouncer`];
            delete config[`${CONFIG_NAMESPACE}:pgbouncer`];
        });
        const error = refused(() => loadStackConfig(readStackFile(dir, "prod")));
        expect(error.problems).toEqual([
            expect.objectContaining({
                path: "reciever-tier:pgbouncer",
                message: expect.stringContaining("did you mean receiver-tier:pgbouncer?"),
            }),
        ]);
    });

    it("accepts the namespaces the program reads and refuses the rest", () => {
        expect(namespaceProblems(["receiver-tier:platform", "aws:region", "aws:profile", "docker:host", "pulumi:tags"])).toEqual([]);
        const problems = namespaceProblems(["aws-region:x", "postgresql:host", "platform"]);
        expect(problems.map((p) => p.path)).toEqual(["aws-region:x", "postgresql:host", "platform"]);
        expect(problems[0]?.message).toContain("did you mean aws:x?");
        expect(problems[2]?.message).toContain("did you mean receiver-tier:platform?");
    });

    it("reports a namespace error together with the config's own errors", () => {
        const dir = editedStack("canary", (config) => {
            config["awss:region"] = "us-east-1";
            config[`${CONFIG_NAMESPACE}:sender`] = { maxQps: 10, burstLimit: 5 };
        });
        const error = refused(() => loadStackConfig(readStackFile(dir, "canary")));
        expect(error.problems.map((p) => p.path).sort()).toEqual(["awss:region", `${CONFIG_NAMESPACE}:sender.burstLimit`]);
    });
});

describe("unknown keys inside the project's namespace", () => {
    it("name the key meant, a misspelt secret included", () => {
        const dir = editedStack("canary", (config) => {
            config[`${CONFIG_NAMESPACE}:pgbouncer`].settings.default_poolsize = 30;
            config[`${CONFIG_NAMESPACE}:recieverPasswordA`] = "x".repeat(20);
        });
        const messages = Object.fromEntries(
            refused(() => loadStackConfig(readStackFile(dir, "canary"))).problems.map((p) => [p.path, p.message]),
        );
        expect(messages[`${CONFIG_NAMESPACE}:pgbouncer.settings.default_poolsize`]).toContain("did you mean default_pool_size?");
        expect(messages[`${CONFIG_NAMESPACE}:recieverPasswordA`]).toContain("did you mean receiverPasswordA?");
    });
});

describe("YAML errors", () => {
    it("name the stack file", () => {
        const dir = projectWith("broken", "config:\n  receiver-tier:platform: aws\n   bad: [\n");
        expect(() => readStackFile(dir, "broken")).toThrow(
            new RegExp(`^${path.join(dir, "Pulumi.broken.yaml").replace(/[.]/g, "\\.")}: .*line \\d+`, "s"),
        );
    });
});

describe("type errors and cross-field rules together", () => {
    it("reports a type error and the rule errors that do not read it in one run", () => {
        const dir = editedStack("canary", (config) => {
            config[`${CONFIG_NAMESPACE}:pgbouncer`].settings.max_client_conn = "lots";
            config[`${CONFIG_NAMESPACE}:sender`] = { maxQps: 10, burstLimit: 5 };
            config[`${CONFIG_NAMESPACE}:pgbouncer`].settings.min_pool_size = 40;
        });
        const error = refused(() => loadStackConfig(readStackFile(dir, "canary")));
        expect(error.problems.map((p) => p.path).sort()).toEqual([
            `${CONFIG_NAMESPACE}:pgbouncer.settings.max_client_conn`,
            `${CONFIG_NAMESPACE}:pgbouncer.settings.min_pool_size`,
            `${CONFIG_NAMESPACE}:sender.burstLimit`,
        ]);
    });

    it("skips, and says so, the rules that read a key with a type error instead of judging its default", () => {
        const dir = editedStack("canary", (config) => {
            // Rule-breaking on its own (reserve above query_wait_timeout), but query_wait_timeout is not a number.
            config[`${CONFIG_NAMESPACE}:pgbouncer`].settings.reserve_pool_timeout = 5;
            config[`${CONFIG_NAMESPACE}:pgbouncer`].settings.query_wait_timeout = "3s";
        });
        const error = refused(() => loadStackConfig(readStackFile(dir, "canary")));
        expect(error.problems.map((p) => p.path)).toEqual([`${CONFIG_NAMESPACE}:pgbouncer.settings.query_wait_timeout`]);
        // reservePoolReachable and proxyChainCoherent (the app's slowest answer includes the PgBouncer wait).
        expect(error.message).toMatch(/2 cross-field rules not checked: they read a key with an error/);
    });

    it("still checks the rules when a required section is broken, except those reading it", () => {
        const dir = editedStack("canary", (config) => {
            config[`${CONFIG_NAMESPACE}:aws`].vpcId = "not-a-vpc";
            config[`${CONFIG_NAMESPACE}:sender`] = { maxQps: 10, burstLimit: 5 };
        });
        const error = refused(() => loadStackConfig(readStackFile(dir, "canary")));
        expect(error.problems.map((p) => p.path).sort()).toEqual([
            `${CONFIG_NAMESPACE}:aws.vpcId`,
            `${CONFIG_NAMESPACE}:sender.burstLimit`,
        ]);
    });
});

const strong = (key: string) => `${key}-is-long-enough-0123456789`;

describe("secrets for offline commands", () => {
    const canary = () => readStackFile(PROJECT_DIR, "canary");

    it("name a mistyped PULUMI_CONFIG key with the secret key meant", () => {
        const entries = Object.fromEntries(TIER_SECRET_KEYS.map((key) => [key, strong(key)]));
        const env = { PULUMI_CONFIG: pulumiConfigJson({ ...entries, recieverPasswordB: strong("x") }) };
        expect(() => readTierSecrets(canary(), "canary", env, "aws")).toThrow(
            `${CONFIG_NAMESPACE}:recieverPasswordB: not a secret of this stack; did you mean ${CONFIG_NAMESPACE}:receiverPasswordB?`,
        );
    });

    it("give one PULUMI_CONFIG hint carrying every missing secret", () => {
        let error: unknown;
        try {
            readTierSecrets(canary(), "canary", {}, "aws");
        } catch (err) {
            error = err;
        }
        expect(error).toBeInstanceOf(MissingSecretsError);
        const message = (error as Error).message;
        expect(message.match(/PULUMI_CONFIG=/g)).toHaveLength(1);
        const json = /PULUMI_CONFIG='([^']*)'/.exec(message)?.[1] as string;
        expect(Object.keys(JSON.parse(json))).toEqual(TIER_SECRET_KEYS.map((key) => `${CONFIG_NAMESPACE}:${key}`));
    });

    it(`refuse passwords under ${MIN_PASSWORD_LENGTH} characters for aws stacks, naming each key but never the value`, () => {
        const env = {
            PULUMI_CONFIG: pulumiConfigJson({
                receiverPasswordA: "x",
                receiverPasswordB: strong("b"),
                statsPasswordA: "short-password",
                statsPasswordB: strong("s"),
                pgbouncerAdminPasswordA: strong("p"),
                pgbouncerAdminPasswordB: strong("q"),
                monitorPassword: strong("m"),
                webhookSigningSecret: strong("w"),
            }),
        };
        const error = refused(() => readTierSecrets(canary(), "canary", env, "aws"));
        expect(error.problems.map((p) => p.path)).toEqual([`${CONFIG_NAMESPACE}:receiverPasswordA`, `${CONFIG_NAMESPACE}:statsPasswordA`]);
        expect(error.message).not.toContain("short-password");
        expect(error.message).toContain(`is 1 characters; platform aws needs at least ${MIN_PASSWORD_LENGTH}`);
    });

    it("exempt the local docker stack's development passwords", () => {
        const local = readStackFile(PROJECT_DIR, "local");
        const env = {
            PULUMI_CONFIG: pulumiConfigJson({
                receiverPasswordA: "dev",
                receiverPasswordB: "dev",
                statsPasswordA: "dev",
                statsPasswordB: "dev",
                monitorPassword: "dev",
            }),
        };
        expect(readTierSecrets(local, "local", env, "docker").receiverPasswordA).toBe("dev");
        expect(() => readTierSecrets(local, "local", env, "aws")).toThrow(ConfigError);
    });
});
