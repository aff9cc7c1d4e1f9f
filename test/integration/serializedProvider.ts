// Prints the DatabaseSetting provider as the SDK serializes it into a dynamic resource's `__provider` input
// (dynamic.Resource makes the same call) when `pulumi up` runs the program. Run it through
// runtime/tsRequireHook.cjs, which compiles the program for `pulumi up` (Pulumi.yaml nodeargs).
import * as pulumi from "@pulumi/pulumi";
import { databaseSettingProvider } from "../../components/postgres/databaseSetting";

pulumi.runtime
    .serializeFunction(() => databaseSettingProvider, { allowSecrets: true })
    .then(
        (serialized) => process.stdout.write(JSON.stringify(serialized)),
        (err: unknown) => {
            console.error(err);
            process.exitCode = 1;
        },
    );
