import { spawnSync } from "child_process";

// The last line of defence when the process exits without teardown (a crashed test, a second
// SIGINT): what the boot created is undone synchronously, by name, in reverse order. Processes the
// harness started are SIGKILLed by harness/pids.ts's own exit hook (by PID and start time).

type Undo = { readonly what: string; readonly run: () => void };
const undos: Undo[] = [];
let installed = false;

function install(): void {
    if (installed) return;
    installed = true;
    process.on("exit", () => {
        for (const undo of undos.splice(0).reverse()) {
            try {
                undo.run();
            } catch {
                // keep going: the rest must still be undone
            }
        }
    });
}

/** Registers an undo step; returns a function that forgets it once teardown did it. */
export function onExitUndo(what: string, run: () => void): () => void {
    install();
    const undo = { what, run };
    undos.push(undo);
    return () => {
        const index = undos.indexOf(undo);
        if (index >= 0) undos.splice(index, 1);
    };
}

export const sync = (command: string, args: string[]) => spawnSync(command, args, { stdio: "ignore", timeout: 15_000 });

/** Undo for a created resource, from network.ts's log lines (`link <name>`, `netns <name>`, `mount <dir>`). */
export function undoFor(line: string): () => void {
    const [kind, name] = line.split(" ") as [string, string];
    if (kind === "link") return () => sync("ip", ["link", "delete", name]);
    if (kind === "netns") return () => sync("ip", ["netns", "delete", name]);
    if (kind === "mount") return () => sync("umount", ["-l", name]);
    if (kind === "pid") return () => sync("kill", ["-KILL", name]);
    return () => undefined;
}
