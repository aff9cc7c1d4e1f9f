import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { DockerSettings, TierConfig } from "../config/schema";
import { PublicFiles } from "../render";
import { assetDir } from "../render/assets";
import { HOST_PATHS } from "../render/hostPaths";
import { postgresPasswordEnv, renderLocalPostgres } from "../render/localContainers";

export interface LocalTierArgs {
    /** Validated stack config. */
    readonly config: TierConfig;
    /** The stack's Docker settings (images, published ports). */
    readonly docker: DockerSettings;
    /** Rendered pgbouncer.ini, gunicorn.conf.py and receiver.env. */
    readonly files: PublicFiles;
    /** Rendered userlist.txt (secret). */
    readonly userlist: pulumi.Output<string>;
    /** Rendered secrets.env for the receiver (secret). */
    readonly receiverSecretsEnv: pulumi.Output<string>;
    /** PostgreSQL superuser password (secret). */
    readonly adminPassword: pulumi.Output<string>;
}

const LOOPBACK = "127.0.0.1";

/** PostgreSQL, PgBouncer and the reference receiver as containers on one network, for development. */
export class LocalTier extends pulumi.ComponentResource {
    /** The PostgreSQL container, healthy; the roles are created once it is. */
    public readonly postgres: docker.Container;

    constructor(name: string, args: LocalTierArgs, opts?: pulumi.ComponentResourceOptions) {
        super("receiver-tier:local:LocalTier", name, {}, opts);
        const cfg = args.config;
        const child = { parent: this };
        const network = new docker.Network(`${name}-network`, { name: `${name}-network` }, child);
        const onNetwork = (alias: string) => [{ name: network.name, aliases: [alias] }];
        const postgresSettings = renderLocalPostgres(cfg);

        const postgresImage = new docker.RemoteImage(
            `${name}-postgres-image`,
            { name: args.docker.postgresImage, keepLocally: true },
            child,
        );
        this.postgres = new docker.Container(
            `${name}-postgres`,
            {
                image: postgresImage.imageId,
                name: `${name}-postgres`,
                envs: pulumi.secret(args.adminPassword.apply((password) => [...postgresSettings.envs, postgresPasswordEnv(password)])),
                command: postgresSettings.command,
                networksAdvanced: onNetwork(cfg.postgres.host),
                ports: [{ internal: 5432, external: args.docker.postgresHostPort, ip: LOOPBACK }],
                healthcheck: { tests: postgresSettings.healthcheck, interval: "2s", timeout: "2s", retries: 30 },
                wait: true,
                restart: "unless-stopped",
            },
            child,
        );

        const pgbouncerImage = new docker.Image(
            `${name}-pgbouncer-image`,
            { imageName: "receiver-tier/pgbouncer:local", build: { context: assetDir("docker/pgbouncer") }, skipPush: true },
            child,
        );
        new docker.Container(
            `${name}-pgbouncer`,
            {
                image: pgbouncerImage.imageName,
                name: `${name}-pgbouncer`,
                uploads: [
                    { file: HOST_PATHS.containerPgbouncerIni, content: args.files["pgbouncer.ini"] },
                    { file: HOST_PATHS.containerUserlist, content: pulumi.secret(args.userlist) },
                ],
                networksAdvanced: onNetwork(cfg.pgbouncer.dnsName),
                ports: [{ internal: cfg.pgbouncer.port, external: args.docker.pgbouncerHostPort, ip: LOOPBACK }],
                restart: "unless-stopped",
            },
            { ...child, dependsOn: [this.postgres] },
        );

        const receiverImage = new docker.Image(
            `${name}-receiver-image`,
            {
                imageName: "receiver-tier/receiver:local",
                build: { context: assetDir("."), dockerfile: assetDir("docker/receiver/Dockerfile") },
                skipPush: true,
            },
            child,
        );
        new docker.Container(
            `${name}-receiver`,
            {
                image: receiverImage.imageName,
                name: `${name}-receiver`,
                uploads: [
                    { file: HOST_PATHS.gunicornConf, content: args.files["gunicorn.conf.py"] },
                    { file: HOST_PATHS.receiverEnv, content: args.files["receiver.env"] },
                    { file: HOST_PATHS.receiverSecretsEnv, content: pulumi.secret(args.receiverSecretsEnv) },
                ],
                networksAdvanced: onNetwork("receiver"),
                ports: [{ internal: cfg.receiver.port, external: args.docker.receiverHostPort, ip: LOOPBACK }],
                restart: "unless-stopped",
            },
            child,
        );
        this.registerOutputs({ postgres: this.postgres.id });
    }
}
