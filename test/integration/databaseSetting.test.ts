import type * as pulumi from "@pulumi/pulumi";
import { createRequire } from "module";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    databaseSettingProvider,
    DatabaseSettingState,
    PostgresConnection,
    readDatabaseSetting,
    resetDatabaseSetting,
    setDatabaseSetting,
} from "../../components/postgres/databaseSetting";
import { PostgresCluster, startPostgres } from "../../harness";
import { PROJECT_DIR } from "../../runtime/projectDir";
import { runTypeScript } from "../../runtime/typeScriptChild";

/** The provider as Pulumi's dynamic-provider host loads a resource's `__provider` text (with the SDK's own loader). */
function loadSerializedProvider(serialized: { text: string; exportName: string }): pulumi.dynamic.ResourceProvider {
    const requireFromString = createRequire(require.resolve("@pulumi/pulumi/package.json"))("require-from-string") as (
        code: string,
    ) => Record<string, () => pulumi.dynamic.ResourceProvider>;
    const handler = requireFromString(serialized.text)[serialized.exportName];
    if (handler === undefined) throw new Error(`the serialized provider exports no ${serialized.exportName}`);
    return handler();
}

// The dynamic provider behind `ALTER DATABASE ... SET statement_timeout`, against a real PostgreSQL.

const DATABASE = "deltacrown";

describe("database-setting dynamic provider", () => {
    let pg: PostgresCluster;
    let admin: PostgresConnection;
    const state = (value: string): DatabaseSettingState => ({ connection: admin, database: DATABASE, name: "statement_timeout", value });
    const asNewSession = async () =>
        (await pg.query<{ statement_timeout: string }>("SHOW statement_timeout", DATABASE))[0]?.statement_timeout;

    beforeAll(async () => {
        pg = await startPostgres();
        await pg.createDatabase(DATABASE);
        admin = {
            host: pg.host,
            port: pg.port,
            user: pg.superuser,
            password: pg.superuserPassword,
            database: "postgres",
            sslmode: "disable",
        };
    });
    afterAll(async () => {
        await pg?.stop();
    });

    it("sets the value for new sessions and reads it back from pg_db_role_setting", async () => {
        expect(await readDatabaseSetting(admin, DATABASE, "statement_timeout")).toBeUndefined();
        await setDatabaseSetting(state("5s"));
        expect(await readDatabaseSetting(admin, DATABASE, "statement_timeout")).toBe("5s");
        expect(await asNewSession()).toBe("5s");
    });

    it("create, read, update and delete through the provider", async () => {
        const created = await databaseSettingProvider.create(state("4s"));
        expect(created.id).toBe("deltacrown/statement_timeout");
        expect((await databaseSettingProvider.read!(created.id, state("4s"))).props?.value).toBe("4s");
        await databaseSettingProvider.update!(created.id, state("4s"), state("5s"));
        expect(await asNewSession()).toBe("5s");
        await databaseSettingProvider.delete!(created.id, state("5s"));
        expect(await readDatabaseSetting(admin, DATABASE, "statement_timeout")).toBeUndefined();
        expect(await asNewSession()).toBe("0");
    });

    it("shows drift: a value changed by hand is what read returns, so preview plans the update", async () => {
        await setDatabaseSetting(state("5s"));
        await pg.query(`ALTER DATABASE ${DATABASE} SET statement_timeout = '30s'`);
        const read = await databaseSettingProvider.read!(`${DATABASE}/statement_timeout`, state("5s"));
        expect(read.props?.value).toBe("30s");
        const diff = await databaseSettingProvider.diff!(`${DATABASE}/statement_timeout`, read.props, state("5s"));
        expect(diff).toMatchObject({ changes: true, replaces: [] });
        await resetDatabaseSetting(state("5s"));
        expect((await databaseSettingProvider.read!(`${DATABASE}/statement_timeout`, state("5s"))).props?.value).toBe("");
    });

    it("works as `pulumi up` ships it: compiled by the project's hook, serialized by the SDK, loaded by the provider host", async () => {
        const child = await runTypeScript(path.join(__dirname, "serializedProvider.ts"), [], { cwd: PROJECT_DIR });
        expect(child.status, child.stderr).toBe(0);
        const serialized = JSON.parse(child.stdout) as { text: string; exportName: string; containsSecrets: boolean };
        // Connections arrive as (secret) inputs: no password is baked into the code kept in the state.
        expect(serialized.containsSecrets).toBe(false);
        const provider = loadSerializedProvider(serialized);
        const created = await provider.create(state("6s"));
        expect(created.id).toBe("deltacrown/statement_timeout");
        expect(await asNewSession()).toBe("6s");
        expect((await provider.read!(created.id, state("6s"))).props?.value).toBe("6s");
        await provider.delete!(created.id, state("6s"));
        expect(await readDatabaseSetting(admin, DATABASE, "statement_timeout")).toBeUndefined();
    });

    it("replaces the resource when it targets another database or parameter", async () => {
        const diff = await databaseSettingProvider.diff!("x", state("5s"), { ...state("5s"), name: "lock_timeout" });
        expect(diff.replaces).toEqual(["name"]);
    });
});
