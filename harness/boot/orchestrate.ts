import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { CUTOVER_SECRET_KEY, SECRET_KEYS, SecretKey, StackSecrets, TierConfig } from "../../components/schema/schema";
import { md5Secret } from "../../components/model/authSecrets";
import { lockStateDir } from "../lock";
import { loadTierConfig, mergeConfig, RawConfig } from "../stack";
import { createTestCa } from "../testCa";
import { buildReceiverArtifact, s3Location } from "./artifact";
import { ensureBaseRoot } from "./baseRoot";
import { onExitUndo, undoFor } from "./cleanup";
import { Container, startContainer } from "./container";
import { Deployment, FleetDeployment } from "./deployment";
import { archiveHosts, hostDebianSources } from "./hostMirror";
import { PolicyDocument } from "./iam";
import { BootNetwork, createNetwork } from "./network";
import { deployUnderMocks } from "./program";
import { startAptProxy, AptProxy } from "./aptProxy";
import { PrimaryDatabase, startPrimary } from "./postgresPrimary";
import { LifecycleEvent, StandInAws } from "./standIn";
import { cloudConfigOf, userDataBytes } from "./userData";

// One boot of a stack's tier: the program's deployment under the mocked engine, PostgreSQL, the
// stand-in AWS, the network, and one PgBouncer host and one receiver host booted from their launch
// templates' user data. Used by `npm run boot` (scripts/boot.ts) and the boot integration tests.

/** One boot at a time on a machine: the lock lives here (the network names and port 443 are shared). */
export const RUN_DIR = "/run/receiver-tier-boot";

export type HostKind = "pgbouncer" | "receiver";

export interface BootedHost {
    readonly kind: HostKind;
    readonly name: string;
    readonly instanceId: string;
    readonly container: Container;
    readonly fleet: FleetDeployment;
    /** Resolves with this instance's lifecycle action result. */
    readonly lifecycle: Promise<LifecycleEvent>;
    readonly launchedAt: number;
}

/** How one more host of a fleet boots (BootedTier.launch). */
export interface LaunchOptions {
    /** Version the program's mocked cloud reports per parameter (e.g. a new secrets version: a rotation). */
    readonly parameterVersions?: Readonly<Record<string, number>>;
    /**
     * Stack config overrides for this host's run of the program, on top of the boot's (e.g.
     * rollout.readinessDeadlineSeconds): its user data is what `pulumi up` would render with them.
     */
    readonly overrides?: RawConfig;
    /**
     * The host cannot reach PostgreSQL: in its /etc/hosts postgres.host names an address of the boot
     * network where nothing answers, routed `unreachable` in its namespace (connects fail at once).
     */
    readonly postgresUnreachable?: boolean;
}

export interface BootOptions {
    readonly stack: string;
    readonly progress: (line: string) => void;
    /** Stack config overrides beyond the boot's own (postgres.caBundle). */
    readonly overrides?: RawConfig;
}

export interface BootedTier {
    readonly stack: string;
    readonly cfg: TierConfig;
    readonly secrets: Record<SecretKey, string>;
    readonly deployment: Deployment;
    readonly standIn: StandInAws;
    readonly primary: PrimaryDatabase;
    readonly network: BootNetwork;
    readonly hosts: BootedHost[];
    host(kind: HostKind): BootedHost;
    /**
     * Boots another instance of a fleet, from a fresh run of the program when the options change its
     * config or parameter versions (runs with the same options are shared). Concurrent launches are fine.
     */
    launch(kind: HostKind, options?: LaunchOptions): Promise<BootedHost>;
    /** Retires a host: its container stops and its state goes. */
    retire(host: BootedHost): Promise<void>;
    outputs(): { healthUrl: string; pgbouncerEndpoint: string };
    stop(): Promise<void>;
}

const randomSecret = () => randomBytes(18).toString("base64url");

function fleetOf(deployment: Deployment, kind: HostKind): FleetDeployment {
    const fleet = deployment.fleets.find((f) => cloudConfigOf(f.userDataBase64).packages.includes("pgbouncer") === (kind === "pgbouncer"));
    if (fleet === undefined) throw new Error(`the program registered no ${kind} fleet`);
    return fleet;
}

export async function bootTier(options: BootOptions): Promise<BootedTier> {
    const { stack, progress } = options;
    const unlock = lockStateDir(RUN_DIR);
    const runId = randomBytes(2).toString("hex");
    const stateDir = fs.mkdtempSync(path.join("/var/tmp", "receiver-tier-boot-"));
    const undoStateDir = onExitUndo(`state ${stateDir}`, () => fs.rmSync(stateDir, { recursive: true, force: true }));
    const teardown: (() => Promise<void>)[] = [];
    /** Every container started, retired or not: stopped all at once first (each shutdown waits on its units). */
    const containers: Container[] = [];
    const stop = async () => {
        const errors: string[] = [];
        await Promise.all(
            containers
                .splice(0)
                .map((c) => c.stop().catch((err: unknown) => errors.push(err instanceof Error ? err.message : String(err)))),
        );
        for (const step of teardown.splice(0).reverse()) {
            await step().catch((err: unknown) => errors.push(err instanceof Error ? err.message : String(err)));
        }
        fs.rmSync(stateDir, { recursive: true, force: true });
        undoStateDir();
        unlock();
        if (errors.length > 0) throw new Error(`boot teardown: ${errors.join("; ")}`);
    };
    try {
        const secrets: StackSecrets = {
            ...(Object.fromEntries(SECRET_KEYS.map((key) => [key, randomSecret()])) as Record<SecretKey, string>),
            // The hand-made login's secret while the stack file holds the cutover block (a pre-hashed one).
            [CUTOVER_SECRET_KEY]: md5Secret("webhook_receiver", randomSecret()),
        };
        // The test CA postgres.caBundle names: the stack file holds a placeholder bundle.
        const postgresCa = createTestCa(`receiver-tier boot ${stack} PostgreSQL CA`);
        const awsCa = createTestCa("receiver-tier boot stand-in AWS CA");
        const overrides: RawConfig = {
            ...options.overrides,
            postgres: { ...((options.overrides?.postgres as RawConfig) ?? {}), caBundle: postgresCa.certPem },
        };
        progress(`program: ${stack} under the mocked engine (postgres.caBundle: the boot's test CA)`);
        const deployments = new Map<string, Promise<Deployment>>();
        const deploy = (extra: RawConfig = {}, parameterVersions?: Readonly<Record<string, number>>) => {
            const key = JSON.stringify([extra, parameterVersions ?? {}]);
            let found = deployments.get(key);
            if (found === undefined) {
                found = deployUnderMocks({ stack, overrides: mergeConfig(overrides, extra), secrets, parameterVersions });
                deployments.set(key, found);
            }
            return found;
        };
        const deployment = await deploy();
        const cfg = loadTierConfig(stack, overrides);
        const region = deployment.region;

        const packages = [...new Set(deployment.fleets.flatMap((f) => cloudConfigOf(f.userDataBase64).packages))].sort();
        const sources = hostDebianSources();
        const base = await ensureBaseRoot({ userDataPackages: packages, sources, progress });

        const network = await createNetwork(runId, stateDir, (line) => {
            const forget = onExitUndo(line, undoFor(line));
            teardown.push(async () => forget());
        });
        teardown.push(() => network.stop());

        const bucket = cfg.receiver.app.artifactUrl === undefined ? undefined : s3Location(cfg.receiver.app.artifactUrl).bucket;
        const endpointNames = [
            `ssm.${region}.amazonaws.com`,
            `autoscaling.${region}.amazonaws.com`,
            `monitoring.${region}.amazonaws.com`,
            "s3.amazonaws.com",
            `s3.${region}.amazonaws.com`,
            ...(bucket ? [`${bucket}.s3.amazonaws.com`, `${bucket}.s3.${region}.amazonaws.com`] : []),
        ];
        const standIn = new StandInAws({
            region,
            account: deployment.account,
            bindAddress: network.gateway,
            tls: awsCa.issue({ dns: endpointNames }),
        });
        await standIn.start();
        teardown.push(() => standIn.stop());
        progress(
            `stand-in AWS: IMDS on ${network.gateway}:${standIn.imdsPort} (relayed from 169.254.169.254), APIs on https://${network.gateway}:${standIn.apiPort}`,
        );
        for (const p of deployment.parameters) standIn.putParameter(p.name, p.type, p.value);
        if (cfg.receiver.app.artifactUrl !== undefined) {
            const { key } = s3Location(cfg.receiver.app.artifactUrl);
            standIn.putObject(bucket as string, key, buildReceiverArtifact());
        }
        for (const f of deployment.fleets) standIn.addGroup({ name: f.groupName, tags: f.groupTags, lifecycleHooks: f.lifecycleHooks });

        const proxy: AptProxy = await startAptProxy(network.gateway, archiveHosts(sources));
        teardown.push(() => proxy.stop());

        const primary = await startPrimary(cfg, stack, secrets, postgresCa, network.gateway, `${network.prefix}.0/24`, progress);
        teardown.push(() => primary.stop());

        const hosts: BootedHost[] = [];
        let nextIndex = 1;
        const pgbouncerAddress = `${network.prefix}.${10 + 1}`;
        /** In the boot network, never assigned to a host: where an unreachable PostgreSQL "is". */
        const deadAddress = `${network.prefix}.254`;
        const launchFrom = async (kind: HostKind, from: Deployment, postgresUnreachable = false): Promise<BootedHost> => {
            const index = nextIndex++;
            const fleet = fleetOf(from, kind);
            const name = `${kind}-${index}`;
            const hostNet = await network.addHost(name, index, standIn.imdsPort);
            if (postgresUnreachable) {
                const routed = await hostNet.exec("ip", ["route", "add", "unreachable", `${deadAddress}/32`]);
                if (routed.code !== 0) throw new Error(`${name}: route to ${deadAddress}: ${routed.stderr}`);
            }
            const instance = standIn.launchInstance({
                hostName: name,
                address: hostNet.address,
                groupName: fleet.groupName,
                roleName: `${fleet.fleet}-instance-role`,
                policy: JSON.parse(fleet.instancePolicy) as PolicyDocument,
            });
            const lifecycle = new Promise<LifecycleEvent>((resolve) => {
                const listener = (event: LifecycleEvent) => {
                    if (event.instanceId !== instance.instanceId) return;
                    standIn.events.off("lifecycle", listener);
                    resolve(event);
                };
                standIn.events.on("lifecycle", listener);
            });
            const launchedAt = Date.now();
            const container = await startContainer({
                name,
                instanceId: instance.instanceId,
                baseRoot: base.dir,
                stateDir,
                userData: userDataBytes(fleet.userDataBase64),
                network: hostNet,
                hosts: [
                    `${pgbouncerAddress} ${cfg.pgbouncer.dnsName}`,
                    `${postgresUnreachable ? deadAddress : network.gateway} ${cfg.postgres.host}`,
                    `${network.gateway} ${endpointNames.join(" ")}`,
                ],
                awsCaPem: awsCa.certPem,
                aptProxyUrl: `http://${network.gateway}:${proxy.port}`,
            });
            containers.push(container);
            teardown.push(() => container.stop());
            progress(
                `${name}: booting ${instance.instanceId} at ${hostNet.address} (cloud-init from the ${fleet.fleet} launch template's user data${postgresUnreachable ? `; ${cfg.postgres.host} unreachable` : ""})`,
            );
            const host: BootedHost = { kind, name, instanceId: instance.instanceId, container, fleet, lifecycle, launchedAt };
            hosts.push(host);
            return host;
        };
        // The PgBouncer host takes the first address: pgbouncer.internal points there.
        await launchFrom("pgbouncer", deployment);
        await launchFrom("receiver", deployment);

        const tier: BootedTier = {
            stack,
            cfg,
            secrets,
            deployment,
            standIn,
            primary,
            network,
            hosts,
            host(kind) {
                const found = [...hosts].reverse().find((h) => h.kind === kind);
                if (found === undefined) throw new Error(`no ${kind} host`);
                return found;
            },
            async launch(kind, launchOptions = {}) {
                const from = await deploy(launchOptions.overrides, launchOptions.parameterVersions);
                return launchFrom(kind, from, launchOptions.postgresUnreachable === true);
            },
            async retire(host) {
                await host.container.stop();
                hosts.splice(hosts.indexOf(host), 1);
            },
            outputs() {
                const receiver = tier.host("receiver");
                return {
                    healthUrl: `http://${receiver.container.address}:${cfg.receiver.nginx.port}${cfg.receiver.healthPath}`,
                    pgbouncerEndpoint: `${cfg.pgbouncer.dnsName}:${cfg.pgbouncer.port} (${tier.host("pgbouncer").container.address})`,
                };
            },
            stop,
        };
        return tier;
    } catch (err) {
        await stop().catch(() => undefined);
        throw err;
    }
}
