import * as net from "net";

// Runs inside a booted host's network namespace (network.ts starts it there): listens on the
// link-local metadata address and pipes each connection to the stand-in's IMDS on the gateway, as
// EC2's hypervisor answers 169.254.169.254 for its instances. The connection to the stand-in comes
// from the host's own address, which is how the stand-in knows who asks.
// Usage: node linkLocalRelay.js <listen address> <listen port> <target address> <target port>

const [listenAddress, listenPort, targetAddress, targetPort] = process.argv.slice(2);
const server = net.createServer((client) => {
    const upstream = net.connect(Number(targetPort), String(targetAddress));
    client.pipe(upstream).pipe(client);
    const close = () => {
        client.destroy();
        upstream.destroy();
    };
    client.on("error", close);
    upstream.on("error", close);
});
server.listen(Number(listenPort), String(listenAddress), () => process.stdout.write("listening\n"));
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => process.exit(0));
