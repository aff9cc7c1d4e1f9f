import { StateDirInUse } from "../harness/lock";
import { bootTier, BootedTier, RUN_DIR } from "../harness/boot/orchestrate";
import { formatBootReport, waitForLifecycle } from "../harness/boot/report";
import { command, main, required, text } from "./args";

// package.json starts this with `exec node`, so Ctrl-C and SIGTERM reach this process, which stops
// the containers, PostgreSQL and the network it made before it exits.

/** Exit status when another boot runs on this machine. */
const ALREADY_RUNNING = 2;

export const bootCommand = command({
    spec: {
        name: "boot",
        summary:
            "Boots a stack's hosts for real on this machine (root): one PgBouncer host and one receiver host in Debian 12 containers (systemd-nspawn), each from exactly the user data the program puts into its launch template, with PostgreSQL 15 and a stand-in AWS that enforces the rendered IAM policy; prints the outputs, each lifecycle action and a signed sample delivery, then runs until Ctrl-C or SIGTERM.",
        options: {
            stack: required("<name>", "stack to boot (Pulumi.<name>.yaml, platform aws: canary, prod)", text),
        },
        examples: ["sudo npm run -s boot -- --stack canary", "sudo npm run -s boot -- --stack prod"],
        exitCodes: [
            "1  not root, a host or the program failed to start, or a host ABANDONed its launch",
            `${ALREADY_RUNNING}  another boot runs on this machine (also: usage error)`,
        ],
    },
    async run(values) {
        const stop = new Promise<string>((resolve) => {
            for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => resolve(signal));
        });
        const say = (line: string) => process.stderr.write(`boot: ${line}\n`);
        if (process.getuid?.() !== 0) {
            say("needs root (debootstrap, network namespaces, systemd-nspawn)");
            return 1;
        }
        let tier: BootedTier;
        try {
            tier = await bootTier({ stack: values.stack, progress: say });
        } catch (err) {
            if (!(err instanceof StateDirInUse)) throw err;
            say(`already running (pid ${err.pid}, lock in ${RUN_DIR}); stop it with Ctrl-C in its terminal or \`kill ${err.pid}\``);
            return ALREADY_RUNNING;
        }
        try {
            const lifecycle = await Promise.race([waitForLifecycle(tier, say), stop.then(() => undefined)]);
            if (lifecycle !== undefined) {
                process.stdout.write(formatBootReport(tier, lifecycle));
                say("running; Ctrl-C or SIGTERM stops the containers, PostgreSQL and the network");
                await stop;
            }
            say("stopping");
            return lifecycle !== undefined && lifecycle.every((e) => e.result === "CONTINUE") ? 0 : 1;
        } finally {
            await tier.stop();
            say("stopped: containers, PostgreSQL, stand-in, namespaces and veths removed");
        }
    },
});

if (require.main === module) main(bootCommand);
