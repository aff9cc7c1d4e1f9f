import * as path from "path";

/** The project root, where Pulumi.yaml and the Pulumi.<stack>.yaml files live (no import: child processes load it too). */
export const PROJECT_DIR = path.resolve(__dirname, "..");
