import { TierConfig } from "../schema/schema";
import { HOST_PATHS } from "../model/hostPaths";

// JSON strings, integers and true/false map onto Python literals once booleans are renamed.
function pythonLiteral(value: string | number | boolean): string {
    if (typeof value === "boolean") return value ? "True" : "False";
    return JSON.stringify(value);
}

/** gunicorn.conf.py for the receivers. */
export function renderGunicornConf(cfg: TierConfig, stack: string): string {
    const r = cfg.receiver;
    // Only nginx on the same host (or in the same local container) talks to Gunicorn.
    const settings: [string, string | number | boolean][] = [
        ["wsgi_app", r.app.wsgi],
        ["chdir", `${HOST_PATHS.receiverDir}/app`],
        ["bind", `127.0.0.1:${r.port}`],
    ];
    for (const [key, value] of Object.entries(r.gunicorn)) {
        if (value !== undefined) settings.push([key, value]);
    }
    return (
        [
            `# gunicorn.conf.py for receiver-tier stack "${stack}". Rendered from stack config; do not edit on the host.`,
            ...settings.map(([key, value]) => `${key} = ${pythonLiteral(value)}`),
        ].join("\n") + "\n"
    );
}
