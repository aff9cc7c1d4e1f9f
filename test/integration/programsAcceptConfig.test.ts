import { statsLogins } from "../../components/model/logins";
import * as fs from "fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    connectPg,
    endQuietly,
    freePort,
    gunicornCheckConfig,
    loadTierConfig,
    receiverAppEnv,
    receiverSecretEnv,
    rowsOf,
    Sandbox,
    sleep,
    startPgbouncer,
    TEST_SECRETS,
    writeGunicornConf,
} from "../../harness";
import { renderTierFiles } from "../../components/render/tierFiles";

// Property 0: the Debian programs accept the files exactly as rendered (only paths/ports rewritten),
// and each check is shown able to fail.

const cfg = loadTierConfig("local");
const files = renderTierFiles(cfg, TEST_SECRETS, "local");
const secretEnv = receiverSecretEnv(cfg);

/** The rendered ini with one extra line right under [pgbouncer]. */
function withExtraSetting(ini: string, line: string): string {
    if (!/^\[pgbouncer\]$/m.test(ini)) throw new Error("no [pgbouncer] section");
    return ini.replace(/^\[pgbouncer\]$/m, `[pgbouncer]\n${line}`);
}

describe("pgbouncer 1.18 and the rendered pgbouncer.ini", () => {
    let sandbox: Sandbox;
    let nowhere: number;

    beforeAll(async () => {
        sandbox = Sandbox.temp();
        nowhere = await freePort(); // no PostgreSQL needed to parse the config
    });
    afterAll(() => sandbox.remove());

    it("starts with the rendered ini and userlist and serves its console", async () => {
        const pb = await startPgbouncer({
            ini: files["pgbouncer.ini"],
            userlist: files["userlist.txt"],
            serverHost: "127.0.0.1",
            serverPort: nowhere,
            sandbox,
        });
        try {
            await sleep(500);
            expect(pb.alive()).toBe(true);
            const stats = await connectPg(pb, {
                user: statsLogins(cfg).active.name,
                password: TEST_SECRETS.statsPasswordA,
                database: "pgbouncer",
            });
            try {
                const version = await rowsOf(stats, "SHOW VERSION");
                expect(String(version[0]?.version)).toMatch(/^PgBouncer 1\.18\./);
            } finally {
                await endQuietly(stats);
            }
        } finally {
            await pb.stop();
        }
        expect(pb.alive()).toBe(false);
    });

    it("refuses to start when the ini has an unknown key, so the check above can fail", async () => {
        const ini = withExtraSetting(files["pgbouncer.ini"], "bogus_key = 1");
        await expect(
            startPgbouncer({ ini, userlist: files["userlist.txt"], serverHost: "127.0.0.1", serverPort: nowhere, sandbox }),
        ).rejects.toThrow(/unknown parameter: pgbouncer\/bogus_key[\s\S]*cannot load config file/);
    });
});

describe("gunicorn 20.1 --check-config and the rendered gunicorn.conf.py", () => {
    let sandbox: Sandbox;
    let confPath: string;
    let appEnv: Record<string, string>;

    beforeAll(async () => {
        sandbox = Sandbox.temp();
        confPath = await writeGunicornConf(sandbox, files["gunicorn.conf.py"], await freePort());
        appEnv = receiverAppEnv(files["receiver.env"], "127.0.0.1", 6432, secretEnv);
    });
    afterAll(() => sandbox.remove());

    it("accepts the rendered config with the reference app webhook_receiver:application", async () => {
        expect(cfg.receiver.app.wsgi).toBe("webhook_receiver:application");
        const result = await gunicornCheckConfig(confPath, cfg.receiver.app.wsgi, appEnv);
        expect(result.stderr + result.stdout).toBe("");
        expect(result.code).toBe(0);
    });

    it("fails for an invalid setting value, so the check can fail", async () => {
        const rewritten = fs.readFileSync(confPath, "utf8");
        expect(rewritten).toMatch(/^workers = \d+$/m);
        const broken = sandbox.write("gunicorn/broken.conf.py", rewritten.replace(/^workers = .*$/m, 'workers = "two"'), 0o644);
        const result = await gunicornCheckConfig(broken, cfg.receiver.app.wsgi, appEnv);
        expect(result.code).not.toBe(0);
        expect(result.stderr).toMatch(/Invalid value for workers/);
    });

    it("fails when the app cannot import (missing receiver.env variables)", async () => {
        const { DB_HOST: _ignored, ...withoutHost } = appEnv;
        const result = await gunicornCheckConfig(confPath, cfg.receiver.app.wsgi, withoutHost);
        expect(result.code).not.toBe(0);
        expect(result.stderr).toMatch(/environment variable DB_HOST is not set/);
    });
});
