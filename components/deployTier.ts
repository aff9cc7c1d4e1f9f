import * as pulumi from "@pulumi/pulumi";
import { Monitoring } from "./aws/monitoring";
import { PgbouncerFleet, PgbouncerFleetArgs } from "./aws/pgbouncerFleet";
import { PgbouncerTls } from "./aws/pgbouncerTls";
import { ReceiverFleet, ReceiverFleetArgs } from "./aws/receiverFleet";
import { SecurityGroups } from "./aws/securityGroups";
import { SenderLimits } from "./aws/senderLimits";
import {
    AwsTierConfig,
    CUTOVER_SECRET_KEY,
    DockerTierConfig,
    StackSecrets,
    TIER_SECRET_KEYS,
    TierConfig,
    TierSecrets,
} from "./schema/schema";
import { LocalTier } from "./docker/localTier";
import { PostgresConnection } from "./postgres/databaseSetting";
import { PostgresSettings } from "./postgres/postgresSettings";
import { PublicFiles, renderPublicFiles } from "./render/tierFiles";
import { renderPgbouncerHostFiles, renderPgbouncerUserData, renderReceiverUserData } from "./render/cloudInit";
import { publicDomain } from "./model/endpoints";
import { renderLocalPostgres } from "./render/dockerContainers";
import { renderDashboard } from "./render/dashboard";
import { AlarmTargets, renderAlarms } from "./render/alarms";
import { dashboardName, metricsNamespace } from "./model/names";
import { alarmSubscriptions } from "./model/alarmSubscriptions";
import { RESOURCE_NAMES } from "./model/resources";
import { configOutputs, localStackOutputs } from "./model/outputs";
import { ParameterNames, parameterNames } from "./model/parameterNames";
import { renderPgbouncerHealthEnv } from "./render/pgbouncerHealth";
import { renderReceiverSecretsEnv } from "./render/receiverEnv";
import { databaseTimeoutSetting, rolesWithConnect, schemaOwnerRole, tierRoles } from "./model/roles";
import { renderEventsTableSql } from "./render/eventsTableSql";
import { senderSettings } from "./model/senderSettings";
import { pgbouncerServesTls } from "./model/tlsModes";
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

/** The stack's config and everything rendered from it that both platforms place. */
interface Rendered<Config extends TierConfig = TierConfig> {
    readonly cfg: Config;
    readonly stack: string;
    readonly files: PublicFiles;
    readonly userlist: pulumi.Output<string>;
    readonly receiverSecretsEnv: pulumi.Output<string>;
    readonly pgbouncerHealthEnv: pulumi.Output<string>;
    readonly secrets: pulumi.Output<TierSecrets>;
    readonly adminPassword: pulumi.Output<string>;
}

/** An aws stack's rendered config, where it runs, its SSM parameter names and what both fleets use. */
interface AwsTier {
    readonly rendered: Rendered<AwsTierConfig>;
    readonly region: string;
    readonly parameters: ParameterNames;
    readonly groups: SecurityGroups;
    /** PgBouncer's certificates, when it serves TLS. */
    readonly tls: PgbouncerTls | undefined;
}

function deployAws(rendered: Rendered<AwsTierConfig>, region: string) {
    const cfg = rendered.cfg;
    const tier: AwsTier = {
        rendered,
        region,
        parameters: parameterNames(rendered.stack),
        groups: securityGroups(rendered),
        tls: pgbouncerServesTls(cfg)
            ? new PgbouncerTls(`${rendered.stack}-pgbouncer-certs`, { dnsName: cfg.pgbouncer.dnsName, stack: rendered.stack })
            : undefined,
    };
    const postgres = postgresSettings(rendered, adminConnection(rendered, cfg.postgres.host, cfg.postgres.port));
    // New hosts prove themselves by logging in through PgBouncer: the roles come first, then the
    // pool, then the receivers.
    const pgbouncer = new PgbouncerFleet(RESOURCE_NAMES.pgbouncerFleet(rendered.stack), pgbouncerFleetArgs(tier), {
        dependsOn: [postgres],
    });
    const receivers = new ReceiverFleet(RESOURCE_NAMES.receiverFleet(rendered.stack), receiverFleetArgs(tier), { dependsOn: [pgbouncer] });
    const sender = new SenderLimits(`${rendered.stack}-sender`, {
        settings: senderSettings(cfg),
        parameterName: tier.parameters.sender,
    });
    const monitoring = monitoringOf(tier, {
        alb: receivers.metricTargets.loadBalancer,
        receiverTargetGroup: receivers.metricTargets.targetGroup,
        nlb: pgbouncer.metricTargets.loadBalancer,
        pgbouncerTargetGroup: pgbouncer.metricTargets.targetGroup,
    });
    return {
        poolEndpoints: pgbouncer.poolEndpoints,
        senderLimits: sender.settings,
        statementTimeout: postgres.statementTimeout,
        dashboardUrl: monitoring.dashboardUrl,
        pgbouncerCa: tier.tls?.caCertPem,
    };
}

function securityGroups(rendered: Rendered<AwsTierConfig>): SecurityGroups {
    const cfg = rendered.cfg;
    return new SecurityGroups(`${rendered.stack}-sg`, {
        vpcId: cfg.aws.vpcId,
        postgresSecurityGroupId: cfg.aws.postgresSecurityGroupId,
        proxyPort: cfg.receiver.nginx.port,
        pgbouncerPort: cfg.pgbouncer.port,
        postgresPort: cfg.postgres.port,
        operators: [...cfg.monitoring.operatorCidrs, ...cfg.monitoring.operatorSecurityGroupIds],
        legacyClients: cfg.cutover ? [...cfg.cutover.legacyClientCidrs, ...cfg.cutover.legacyClientSecurityGroupIds] : [],
    });
}

/** PgBouncer's section, where the hosts run, their rendered files and secrets. */
function pgbouncerFleetArgs({ rendered, region, parameters, groups, tls }: AwsTier): PgbouncerFleetArgs {
    const cfg = rendered.cfg;
    return {
        pgbouncer: cfg.pgbouncer,
        network: cfg.aws,
        recordAdoption: { importId: cfg.adopt.privateRecord, allowOverwrite: cfg.adopt.overwriteRecords.private },
        metricsNamespace: metricsNamespace(cfg, rendered.stack),
        region,
        parameters,
        userData: renderPgbouncerUserData(cfg, region, parameters),
        pgbouncerIni: rendered.files["pgbouncer.ini"],
        hostFiles: renderPgbouncerHostFiles(cfg, rendered.stack, region, parameters),
        postgresCa: cfg.postgres.caBundle,
        userlist: rendered.userlist,
        healthEnv: rendered.pgbouncerHealthEnv,
        monitorPassword: pulumi.secret(rendered.secrets.apply((s) => s.monitorPassword)),
        tls,
        hostSecurityGroup: groups.pgbouncer,
        nlbSecurityGroup: groups.pgbouncerNlb,
    };
}

/** The receiver section, the public name, where the receivers run, their user data and secrets. */
function receiverFleetArgs({ rendered, region, parameters, groups, tls }: AwsTier): ReceiverFleetArgs {
    const cfg = rendered.cfg;
    return {
        receiver: cfg.receiver,
        domain: publicDomain(cfg),
        network: cfg.aws,
        recordAdoption: { importId: cfg.adopt.publicRecord, allowOverwrite: cfg.adopt.overwriteRecords.public },
        metricsNamespace: metricsNamespace(cfg, rendered.stack),
        region,
        secretsParameter: parameters.receiverSecrets,
        secretsEnv: rendered.receiverSecretsEnv,
        // A new secrets version (a login switch) or CA makes new user data: the fleet rolls onto it.
        userData: (secretsVersion, pgbouncerCa) =>
            renderReceiverUserData(cfg, rendered.stack, region, parameters, rendered.files, secretsVersion, pgbouncerCa),
        pgbouncerCa: tls?.caCertPem,
        receiverSecurityGroup: groups.receivers,
        albSecurityGroup: groups.alb,
    };
}

function monitoringOf({ rendered, region }: AwsTier, targets: AlarmTargets<pulumi.Output<string>>): Monitoring {
    const cfg = rendered.cfg;
    return new Monitoring(`${rendered.stack}-monitoring`, {
        alarms: renderAlarms(cfg, rendered.stack, targets),
        alarmTopicArn: cfg.monitoring.alarmTopicArn,
        subscriptions: alarmSubscriptions(cfg),
        dashboardName: dashboardName(rendered.stack),
        dashboardBody: pulumi
            .all([targets.alb, targets.receiverTargetGroup, targets.nlb, targets.pgbouncerTargetGroup])
            .apply(([alb, receiverTargetGroup, nlb, pgbouncerTargetGroup]) =>
                renderDashboard(cfg, rendered.stack, region, { alb, receiverTargetGroup, nlb, pgbouncerTargetGroup }),
            ),
        region,
    });
}

function postgresSettings(
    rendered: Rendered,
    admin: pulumi.Output<PostgresConnection>,
    opts?: pulumi.ComponentResourceOptions,
): PostgresSettings {
    const cfg = rendered.cfg;
    return new PostgresSettings(
        RESOURCE_NAMES.postgresSettings(rendered.stack),
        {
            roles: tierRoles(cfg),
            connectRoles: rolesWithConnect(cfg),
            database: cfg.postgres.database,
            receiverRole: cfg.receiverRole.name,
            schemaOwner: schemaOwnerRole(cfg),
            eventsTableSql: renderEventsTableSql(cfg),
            databaseSetting: databaseTimeoutSetting(cfg),
            adopt: cfg.adopt,
            secrets: rendered.secrets,
            admin,
        },
        opts,
    );
}

function deployDocker(rendered: Rendered<DockerTierConfig>) {
    const cfg = rendered.cfg;
    const local = new LocalTier(`${rendered.stack}-local`, {
        postgres: {
            image: cfg.docker.postgresImage,
            host: cfg.postgres.host,
            publishedPort: cfg.docker.postgresHostPort,
            settings: renderLocalPostgres(cfg),
            adminPassword: rendered.adminPassword,
        },
        pgbouncer: {
            host: cfg.pgbouncer.dnsName,
            port: cfg.pgbouncer.port,
            publishedPort: cfg.docker.pgbouncerHostPort,
            ini: rendered.files["pgbouncer.ini"],
            userlist: rendered.userlist,
        },
        receiver: {
            proxyPort: cfg.receiver.nginx.port,
            publishedPort: cfg.docker.receiverHostPort,
            nginxConf: rendered.files["nginx.conf"],
            gunicornConf: rendered.files["gunicorn.conf.py"],
            env: rendered.files["receiver.env"],
            secretsEnv: rendered.receiverSecretsEnv,
        },
    });
    // From the machine running Pulumi the container is on its published loopback port, without TLS.
    const postgres = postgresSettings(rendered, adminConnection(rendered, "127.0.0.1", cfg.docker.postgresHostPort, "disable"), {
        dependsOn: [local.postgres],
    });
    return { ...localStackOutputs(cfg, postgres.statementTimeout), pgbouncerCa: undefined, dashboardUrl: undefined };
}

function adminConnection(
    rendered: Rendered,
    host: string,
    port: number,
    sslmode = rendered.cfg.postgres.sslmode,
): pulumi.Output<PostgresConnection> {
    return pulumi.secret(
        rendered.adminPassword.apply((password) => ({
            host,
            port,
            user: rendered.cfg.postgres.adminUser,
            password,
            database: rendered.cfg.postgres.database,
            sslmode,
            sslrootcert: rendered.cfg.postgres.caBundle,
        })),
    );
}

/** The files and secrets both platforms place, rendered once. */
function renderTier<Config extends TierConfig>(cfg: Config, stack: string, allSecrets: pulumi.Output<StackSecrets>): Rendered<Config> {
    const secrets = allSecrets.apply((all): TierSecrets => ({
        ...(Object.fromEntries(TIER_SECRET_KEYS.map((key) => [key, all[key]])) as TierSecrets),
        ...(all[CUTOVER_SECRET_KEY] === undefined ? {} : { [CUTOVER_SECRET_KEY]: all[CUTOVER_SECRET_KEY] }),
    }));
    return {
        cfg,
        stack,
        files: renderPublicFiles(cfg, stack),
        userlist: pulumi.secret(secrets.apply((s) => renderUserlist(cfg, s))),
        receiverSecretsEnv: pulumi.secret(secrets.apply((s) => renderReceiverSecretsEnv(cfg, s))),
        pgbouncerHealthEnv: pulumi.secret(secrets.apply((s) => renderPgbouncerHealthEnv(cfg, s))),
        secrets: pulumi.secret(secrets),
        adminPassword: pulumi.secret(allSecrets.apply((s) => s.postgresAdminPassword)),
    };
}

/** Places the whole tier for one stack and returns its outputs. */
export function deployTier(cfg: TierConfig, allSecrets: pulumi.Output<StackSecrets>, stack: string, awsRegion: () => string): TierOutputs {
    const deployed =
        cfg.platform === "aws"
            ? deployAws(renderTier(cfg, stack, allSecrets), awsRegion())
            : deployDocker(renderTier(cfg, stack, allSecrets));
    return { ...configOutputs(cfg), ...deployed };
}
