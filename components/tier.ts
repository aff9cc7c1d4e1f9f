import * as pulumi from "@pulumi/pulumi";
import { SecurityGroups } from "./aws/securityGroups";
import { PgbouncerFleet } from "./aws/pgbouncerFleet";
import { PgbouncerTls } from "./aws/pgbouncerTls";
import { pgbouncerServesTls } from "./render/tls";
import { ReceiverFleet } from "./aws/receiverFleet";
import { Monitoring } from "./aws/monitoring";
import { SenderLimits } from "./aws/senderLimits";
import { AwsSettings, DockerSettings, SecretKey, TIER_SECRET_KEYS, TierConfig, TierSecrets } from "./config/schema";
import { LocalTier } from "./local/localTier";
import { PostgresConnection } from "./postgres/databaseSetting";
import { PostgresSettings } from "./postgres/postgresSettings";
import { PublicFiles, renderPublicFiles } from "./render";
import { localPoolEndpoints, renderEndpoints } from "./render/endpoints";
import { parameterNames } from "./render/parameterNames";
import { renderPgbouncerHealthEnv } from "./render/pgbouncerHealth";
import { renderReceiverSecretsEnv } from "./render/receiverEnv";
import { renderSenderSettings } from "./render/sender";
import { renderUserlist } from "./render/userlist";

/** What the stack exports. None of it is secret. */
export interface TierOutputs {
    readonly healthUrl: string;
    readonly pgbouncerEndpoint: string;
    readonly poolEndpoints: pulumi.Input<string[]>;
    readonly showPoolsCommand: string;
    readonly statementTimeout: pulumi.Output<string>;
    readonly senderLimits: Record<string, string>;
    /** The CloudWatch dashboard (AWS stacks; the local stack has none). */
    readonly dashboardUrl: pulumi.Output<string> | undefined;
    /** The stack's PgBouncer CA (not secret), when PgBouncer serves TLS: what clients verify against. */
    readonly pgbouncerCa: pulumi.Output<string> | undefined;
}

interface Rendered {
    readonly cfg: TierConfig;
    readonly stack: string;
    readonly files: PublicFiles;
    readonly userlist: pulumi.Output<string>;
    readonly receiverSecretsEnv: pulumi.Output<string>;
    readonly pgbouncerHealthEnv: pulumi.Output<string>;
    readonly secrets: pulumi.Output<TierSecrets>;
    readonly adminPassword: pulumi.Output<string>;
}

function deployAws(r: Rendered, network: AwsSettings, region: string) {
    const parameters = parameterNames(r.stack);
    const groups = new SecurityGroups(`${r.stack}-sg`, { config: r.cfg, network });
    const tls = pgbouncerServesTls(r.cfg)
        ? new PgbouncerTls(`${r.stack}-pgbouncer-certs`, { dnsName: r.cfg.pgbouncer.dnsName, stack: r.stack })
        : undefined;
    const postgres = new PostgresSettings(`${r.stack}-postgres`, {
        config: r.cfg,
        secrets: r.secrets,
        admin: adminConnection(r, r.cfg.postgres.host, r.cfg.postgres.port),
    });
    // New hosts prove themselves by logging in through PgBouncer: the roles come first, then the
    // pool, then the receivers.
    const pgbouncer = new PgbouncerFleet(
        `${r.stack}-pgbouncer`,
        {
            config: r.cfg,
            stack: r.stack,
            network,
            region,
            parameters,
            pgbouncerIni: r.files["pgbouncer.ini"],
            userlist: r.userlist,
            healthEnv: r.pgbouncerHealthEnv,
            tls,
            monitorPassword: pulumi.secret(r.secrets.apply((s) => s.monitorPassword)),
            hostSecurityGroup: groups.pgbouncer,
            nlbSecurityGroup: groups.pgbouncerNlb,
        },
        { dependsOn: [postgres] },
    );
    const receivers = new ReceiverFleet(
        `${r.stack}-receivers`,
        {
            config: r.cfg,
            stack: r.stack,
            network,
            region,
            parameters,
            files: r.files,
            secretsEnv: r.receiverSecretsEnv,
            pgbouncerCa: tls?.caCertPem,
            receiverSecurityGroup: groups.receivers,
            albSecurityGroup: groups.alb,
        },
        { dependsOn: [pgbouncer] },
    );
    const sender = new SenderLimits(`${r.stack}-sender`, { config: r.cfg, parameterName: parameters.sender });
    const monitoring = new Monitoring(`${r.stack}-monitoring`, {
        config: r.cfg,
        stack: r.stack,
        region,
        targets: {
            alb: receivers.metricTargets.loadBalancer,
            receiverTargetGroup: receivers.metricTargets.targetGroup,
            nlb: pgbouncer.metricTargets.loadBalancer,
            pgbouncerTargetGroup: pgbouncer.metricTargets.targetGroup,
        },
    });
    return {
        poolEndpoints: pgbouncer.poolEndpoints,
        senderLimits: sender.settings,
        statementTimeout: postgres.statementTimeout,
        dashboardUrl: monitoring.dashboardUrl,
        pgbouncerCa: tls?.caCertPem,
    };
}

function deployDocker(r: Rendered, settings: DockerSettings) {
    const local = new LocalTier(`${r.stack}-local`, {
        config: r.cfg,
        docker: settings,
        files: r.files,
        userlist: r.userlist,
        receiverSecretsEnv: r.receiverSecretsEnv,
        adminPassword: r.adminPassword,
    });
    const postgres = new PostgresSettings(
        `${r.stack}-postgres`,
        // From the machine running Pulumi the container is on its published loopback port, without TLS.
        { config: r.cfg, secrets: r.secrets, admin: adminConnection(r, "127.0.0.1", settings.postgresHostPort, "disable") },
        { dependsOn: [local.postgres] },
    );
    return {
        poolEndpoints: localPoolEndpoints(r.cfg),
        senderLimits: renderSenderSettings(r.cfg),
        statementTimeout: postgres.statementTimeout,
        pgbouncerCa: undefined,
        dashboardUrl: undefined,
    };
}

function adminConnection(r: Rendered, host: string, port: number, sslmode = r.cfg.postgres.sslmode): pulumi.Output<PostgresConnection> {
    return pulumi.secret(
        r.adminPassword.apply((password) => ({
            host,
            port,
            user: r.cfg.postgres.adminUser,
            password,
            database: r.cfg.postgres.database,
            sslmode,
            sslrootcert: r.cfg.postgres.caBundle,
        })),
    );
}

/** Places the whole tier for one stack and returns its outputs. */
export function deployTier(
    cfg: TierConfig,
    allSecrets: pulumi.Output<Record<SecretKey, string>>,
    stack: string,
    awsRegion: () => string,
): TierOutputs {
    const secrets = allSecrets.apply(
        (all): TierSecrets => Object.fromEntries(TIER_SECRET_KEYS.map((key) => [key, all[key]])) as TierSecrets,
    );
    const rendered: Rendered = {
        cfg,
        stack,
        files: renderPublicFiles(cfg, stack),
        userlist: pulumi.secret(secrets.apply((s) => renderUserlist(cfg, s))),
        receiverSecretsEnv: pulumi.secret(secrets.apply((s) => renderReceiverSecretsEnv(cfg, s))),
        pgbouncerHealthEnv: pulumi.secret(secrets.apply((s) => renderPgbouncerHealthEnv(cfg, s))),
        secrets: pulumi.secret(secrets),
        adminPassword: pulumi.secret(allSecrets.apply((s) => s.postgresAdminPassword)),
    };
    const deployed = cfg.platform === "aws" ? deployAws(rendered, cfg.aws, awsRegion()) : deployDocker(rendered, cfg.docker);
    const { healthUrl, pgbouncerEndpoint, showPoolsCommand } = renderEndpoints(cfg);
    return { healthUrl, pgbouncerEndpoint, showPoolsCommand, ...deployed };
}
