/** SSM Parameter Store names of one stack; instance roles are granted exactly these. */
export interface ParameterNames {
    readonly pgbouncerIni: string;
    readonly userlist: string;
    /** postgres.caBundle, when set. */
    readonly postgresCa: string;
    /** PgBouncer's certificate, its private key (secret) and the CA that signed it. */
    readonly pgbouncerTlsCert: string;
    readonly pgbouncerTlsKey: string;
    readonly pgbouncerTlsCa: string;
    /** The health check's login (secret): the receivers' active login and its password. */
    readonly pgbouncerHealthEnv: string;
    readonly monitorPassword: string;
    readonly monitorEnv: string;
    /** Where the hosts' metrics go (namespace, region). */
    readonly metricsEnv: string;
    /** logrotate of PgBouncer's log (retention from config). */
    readonly pgbouncerLogrotate: string;
    readonly monitorSql: string;
    readonly monitorTimer: string;
    readonly receiverSecrets: string;
    /** One parameter per sender setting, named as the runbook names the variable. */
    readonly sender: (setting: string) => string;
}

export function parameterNames(stack: string): ParameterNames {
    const root = `/receiver-tier/${stack}`;
    return {
        pgbouncerIni: `${root}/pgbouncer/pgbouncer.ini`,
        userlist: `${root}/pgbouncer/userlist.txt`,
        postgresCa: `${root}/pgbouncer/postgres-ca.pem`,
        pgbouncerTlsCert: `${root}/pgbouncer/pgbouncer-tls.crt`,
        pgbouncerTlsKey: `${root}/pgbouncer/pgbouncer-tls.key`,
        pgbouncerTlsCa: `${root}/pgbouncer/pgbouncer-ca.pem`,
        pgbouncerHealthEnv: `${root}/pgbouncer/health.env`,
        monitorPassword: `${root}/monitor/password`,
        monitorEnv: `${root}/monitor/monitor.env`,
        metricsEnv: `${root}/pgbouncer/metrics.env`,
        pgbouncerLogrotate: `${root}/pgbouncer/logrotate`,
        monitorSql: `${root}/monitor/monitor.sql`,
        monitorTimer: `${root}/monitor/receiver-long-query-monitor.timer`,
        receiverSecrets: `${root}/receiver/secrets.env`,
        sender: (setting) => `${root}/sender/${setting}`,
    };
}
