import { BootedTier } from "./orchestrate";
import { LifecycleEvent } from "./standIn";
import { signedPostCommand } from "../tryIt";

// What `npm run boot` prints: progress while the hosts come up, then the outputs, each lifecycle action
// the stand-in received, the boot-to-lifecycle time of each host and a signed delivery to paste.

/** Bound on a host's first boot: packages, the app, the readiness loop's own deadline inside it. */
const LIFECYCLE_WAIT_MS = 15 * 60_000;

/** Waits for every host's lifecycle action, printing cloud-init and unit progress meanwhile. */
export async function waitForLifecycle(tier: BootedTier, say: (line: string) => void): Promise<LifecycleEvent[]> {
    const results = tier.hosts.map(async (host) => {
        let last = "";
        const watch = setInterval(() => {
            void host.container
                .exec("cloud-init status 2>/dev/null | sed -n 's/^status: //p'; systemctl is-system-running 2>/dev/null", 10_000)
                .then((r) => {
                    const state = r.stdout.trim().replace(/\n/g, ", system ");
                    if (state !== "" && state !== last) say(`${host.name}: cloud-init ${state}`);
                    last = state;
                })
                .catch(() => undefined);
        }, 5000);
        try {
            const event = await Promise.race([
                host.lifecycle,
                new Promise<never>((_, reject) =>
                    setTimeout(
                        () => reject(new Error(`${host.name}: no lifecycle action within ${LIFECYCLE_WAIT_MS / 60000} min`)),
                        LIFECYCLE_WAIT_MS,
                    ).unref(),
                ),
            ]);
            say(`${host.name}: lifecycle ${event.result} ${((event.at - host.launchedAt) / 1000).toFixed(1)} s after boot`);
            return event;
        } finally {
            clearInterval(watch);
        }
    });
    return Promise.all(results);
}

/** The outputs, the lifecycle lines and a sample delivery, as stdout shows them. */
export function formatBootReport(tier: BootedTier, lifecycle: readonly LifecycleEvent[]): string {
    const { healthUrl, pgbouncerEndpoint } = tier.outputs();
    const receiver = tier.host("receiver");
    const lines = [
        `healthUrl          ${healthUrl}`,
        `pgbouncerEndpoint  ${pgbouncerEndpoint}`,
        ...lifecycle.map((e) => `lifecycle ${e.host} ${e.result}`),
        ...lifecycle.map((e) => {
            const host = tier.hosts.find((h) => h.name === e.host);
            return `boot-to-${e.result} ${e.host} ${host ? ((e.at - host.launchedAt) / 1000).toFixed(1) : "?"} s`;
        }),
        "",
        `# a signed delivery to ${receiver.name} (this boot's signing secret is inline: it lives only as long as the boot)`,
        signedPostCommand(tier.cfg, new URL(healthUrl).origin, "boot-demo", `'${tier.secrets.webhookSigningSecret}'`),
        "",
    ];
    return lines.join("\n");
}
