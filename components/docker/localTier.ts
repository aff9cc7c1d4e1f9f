import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { assetDir } from "../render/assets";
import { HOST_PATHS } from "../model/hostPaths";
import { LocalPostgres, postgresPasswordEnv } from "../render/dockerContainers";
import { COMPONENT_TYPES } from "../model/resources";

/** The PostgreSQL container. */
export interface LocalPostgresArgs {
    /** The image to run (docker.postgresImage). */
    readonly image: string;
    /** The name the other containers reach it by (postgres.host). */
    readonly host: string;
    /** Its port on the host's loopback (docker.postgresHostPort). */
    readonly publishedPort: number;
    /** Environment, command and health check, as renderLocalPostgres renders them. */
    readonly settings: LocalPostgres;
    /** The superuser's password (secret). */
    readonly adminPassword: pulumi.Output<string>;
}

/** The PgBouncer container. */
export interface LocalPgbouncerArgs {
    /** The name the receiver reaches it by (pgbouncer.dnsName). */
    readonly host: string;
    /** PgBouncer's port in the container (pgbouncer.port). */
    readonly port: number;
    /** Its port on the host's loopback (docker.pgbouncerHostPort). */
    readonly publishedPort: number;
    /** Rendered pgbouncer.ini. */
    readonly ini: string;
    /** Rendered userlist.txt (secret). */
    readonly userlist: pulumi.Output<string>;
}

/** The reference receiver's container: nginx in front of Gunicorn, as on a receiver host. */
export interface LocalReceiverArgs {
    /** nginx's port in the container (receiver.nginx.port); Gunicorn listens on the container's loopback behind it. */
    readonly proxyPort: number;
    /** nginx's port on the host's loopback (docker.receiverHostPort). */
    readonly publishedPort: number;
    /** Rendered nginx.conf. */
    readonly nginxConf: string;
    /** Rendered gunicorn.conf.py. */
    readonly gunicornConf: string;
    /** Rendered receiver.env. */
    readonly env: string;
    /** Rendered secrets.env (secret). */
    readonly secretsEnv: pulumi.Output<string>;
}

export interface LocalTierArgs {
    /** PostgreSQL: image, name, published port, settings and superuser password. */
    readonly postgres: LocalPostgresArgs;
    /** PgBouncer: name, ports and its rendered files. */
    readonly pgbouncer: LocalPgbouncerArgs;
    /** The reference receiver: ports and its rendered files. */
    readonly receiver: LocalReceiverArgs;
}

const LOOPBACK = "127.0.0.1";

/** PostgreSQL, PgBouncer and the reference receiver as containers on one network, for development. */
export class LocalTier extends pulumi.ComponentResource {
    /** The PostgreSQL container, healthy; the roles are created once it is. */
    public readonly postgres: docker.Container;
    /** The containers' network. */
    private readonly network: docker.Network;

    constructor(
        private readonly name: string,
        args: LocalTierArgs,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super(COMPONENT_TYPES.localTier, name, {}, opts);
        this.network = new docker.Network(`${name}-network`, { name: `${name}-network` }, { parent: this });
        this.postgres = this.postgresContainer(args.postgres);
        this.pgbouncerContainer(args.pgbouncer);
        this.receiverContainer(args.receiver);
        this.registerOutputs({ postgres: this.postgres.id });
    }

    /** Attachment to the tier's network under the name the other containers use. */
    private onNetwork(alias: string) {
        return [{ name: this.network.name, aliases: [alias] }];
    }

    private postgresContainer(args: LocalPostgresArgs): docker.Container {
        const child = { parent: this };
        const settings = args.settings;
        const image = new docker.RemoteImage(`${this.name}-postgres-image`, { name: args.image, keepLocally: true }, child);
        return new docker.Container(
            `${this.name}-postgres`,
            {
                image: image.imageId,
                name: `${this.name}-postgres`,
                envs: pulumi.secret(args.adminPassword.apply((password) => [...settings.envs, postgresPasswordEnv(password)])),
                command: settings.command,
                networksAdvanced: this.onNetwork(args.host),
                ports: [{ internal: settings.port, external: args.publishedPort, ip: LOOPBACK }],
                healthcheck: { tests: settings.healthcheck, interval: "2s", timeout: "2s", retries: 30 },
                wait: true,
                restart: "unless-stopped",
            },
            child,
        );
    }

    /** PgBouncer with the rendered files, once PostgreSQL is healthy. */
    private pgbouncerContainer(args: LocalPgbouncerArgs): docker.Container {
        const child = { parent: this };
        const image = new docker.Image(
            `${this.name}-pgbouncer-image`,
            { imageName: "receiver-tier/pgbouncer:local", build: { context: assetDir("docker/pgbouncer") }, skipPush: true },
            child,
        );
        return new docker.Container(
            `${this.name}-pgbouncer`,
            {
                image: image.imageName,
                name: `${this.name}-pgbouncer`,
                uploads: [
                    { file: HOST_PATHS.containerPgbouncerIni, content: args.ini },
                    { file: HOST_PATHS.containerUserlist, content: pulumi.secret(args.userlist) },
                ],
                networksAdvanced: this.onNetwork(args.host),
                ports: [{ internal: args.port, external: args.publishedPort, ip: LOOPBACK }],
                restart: "unless-stopped",
            },
            { ...child, dependsOn: [this.postgres] },
        );
    }

    /** The reference receiver behind the rendered nginx, with the rendered Gunicorn config and env files. */
    private receiverContainer(args: LocalReceiverArgs): docker.Container {
        const child = { parent: this };
        const image = new docker.Image(
            `${this.name}-receiver-image`,
            {
                imageName: "receiver-tier/receiver:local",
                build: { context: assetDir("."), dockerfile: assetDir("docker/receiver/Dockerfile") },
                skipPush: true,
            },
            child,
        );
        return new docker.Container(
            `${this.name}-receiver`,
            {
                image: image.imageName,
                name: `${this.name}-receiver`,
                uploads: [
                    { file: HOST_PATHS.stagedNginxConf, content: args.nginxConf },
                    { file: HOST_PATHS.gunicornConf, content: args.gunicornConf },
                    { file: HOST_PATHS.receiverEnv, content: args.env },
                    { file: HOST_PATHS.receiverSecretsEnv, content: pulumi.secret(args.secretsEnv) },
                ],
                networksAdvanced: this.onNetwork("receiver"),
                ports: [{ internal: args.proxyPort, external: args.publishedPort, ip: LOOPBACK }],
                restart: "unless-stopped",
            },
            child,
        );
    }
}
