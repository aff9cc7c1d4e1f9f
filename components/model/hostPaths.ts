/** Where the tier's files live on a host (Debian packages' own locations). */
export const HOST_PATHS = {
    pgbouncerIni: "/etc/pgbouncer/pgbouncer.ini",
    userlist: "/etc/pgbouncer/userlist.txt",
    /** postgres.caBundle: PgBouncer's server_tls_ca_file, and the monitor's sslrootcert. */
    postgresCa: "/etc/pgbouncer/postgres-ca.pem",
    /** The stack's certificate for pgbouncer.dnsName and its key (client_tls_cert_file / client_tls_key_file). */
    pgbouncerTlsCert: "/etc/pgbouncer/pgbouncer-tls.crt",
    pgbouncerTlsKey: "/etc/pgbouncer/pgbouncer-tls.key",
    /** The stack's PgBouncer CA on a PgBouncer host, for its own health check. */
    pgbouncerTlsCa: "/etc/pgbouncer/pgbouncer-ca.pem",
    /** The stack's PgBouncer CA on a receiver: DB_SSLROOTCERT. */
    receiverPgbouncerCa: "/etc/webhook-receiver/pgbouncer-ca.pem",
    pgbouncerLog: "/var/log/postgresql/pgbouncer.log",
    pgbouncerPid: "/var/run/postgresql/pgbouncer.pid",
    pgbouncerSocketDir: "/var/run/postgresql",
    receiverDir: "/opt/webhook-receiver",
    gunicornConf: "/etc/webhook-receiver/gunicorn.conf.py",
    receiverEnv: "/etc/webhook-receiver/receiver.env",
    /** The rendered nginx.conf as user data writes it, before `nginx -t` accepted it and it became /etc/nginx/nginx.conf. */
    stagedNginxConf: "/etc/receiver-tier/nginx.conf",
    nginxConf: "/etc/nginx/nginx.conf",
    receiverSecretsEnv: "/etc/webhook-receiver/secrets.env",
    pgbouncerHealthEnv: "/etc/receiver-tier/pgbouncer-health.env",
    launchEnv: "/etc/receiver-tier/launch.env",
    metricsEnv: "/etc/receiver-tier/metrics.env",
    pgbouncerLogrotate: "/etc/logrotate.d/pgbouncer",
    receiverLogrotate: "/etc/logrotate.d/webhook-receiver",
    monitorEnv: "/etc/receiver-tier/monitor.env",
    monitorSql: "/etc/receiver-tier/monitor.sql",
    monitorTimer: "/etc/systemd/system/receiver-long-query-monitor.timer",
    /** The local PgBouncer container's upload folder; its entrypoint installs them for PgBouncer. */
    containerPgbouncerIni: "/etc/receiver-tier/pgbouncer.ini",
    containerUserlist: "/etc/receiver-tier/userlist.txt",
} as const;
