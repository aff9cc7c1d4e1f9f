/**
 * The tier on this machine: real PostgreSQL 15, PgBouncer 1.18 and Gunicorn on 127.0.0.1, started
 * from the rendered files. Used by `npm run local` (scripts/local.ts), the integration tests and
 * `npm run bench`.
 *
 * Just a database (e.g. for the dynamic-provider test):
 *
 *     const pg = await startPostgres();          // initdb + pg_ctl start, free port
 *     pg.superuserUrl                            // postgresql://postgres:<pw>@127.0.0.1:<port>/postgres
 *     await pg.query("SELECT 1");                // superuser over the unix socket
 *     await pg.stop();                           // teardown: pg_ctl stop -m fast (SIGQUIT/SIGKILL by PID if needed), rm -rf
 *
 *   In vitest: `let pg: PostgresCluster; beforeAll(async () => { pg = await startPostgres(); });
 *   afterAll(async () => { await pg?.stop(); });` (a failed start cleans up after itself).
 *
 *   startPostgres(options?) -> PostgresCluster
 *     options: maxConnections (100), superuserReservedConnections (3),
 *              hostAuthMethod "scram-sha-256" | "md5" for non-superusers over 127.0.0.1 (never trust),
 *              settings (extra postgresql.conf), sandbox (else a new temp dir it removes; a cluster
 *              already in it is started as it is), port (else a free one), progress(line).
 *     cluster: host, port, socketDir, dataDir, logFile, superuser, superuserPassword, superuserUrl,
 *              pid(), connect(db?) -> pg.Client, query(sql, db?, params?), psqlFile(db, file),
 *              createDatabase(name), startServer() / stopServer() / restartServer() (pg_ctl, -m fast; the
 *              cluster stays), stop() (teardown, idempotent: call it in afterAll or finally).
 *
 * The whole tier from a real stack's config:
 *
 *     const cfg = loadTierConfig("local", { pgbouncer: { settings: { auth_type: "md5" } } });
 *     const tier = await startTier({ cfg, gunicorn: true });
 *     const c = await tier.receiver();           // pg.Client via PgBouncer as the receiver role
 *     const s = await tier.stats();              // PgBouncer console ("pgbouncer" db) as stats user
 *     tier.gunicorn!.baseUrl                     // http://127.0.0.1:<port>
 *     await tier.stop();                         // in afterAll/finally: Gunicorn, PgBouncer, Postgres by PID
 *
 *   loadTierConfig(stack = "local", overrides) -> TierConfig: readStackFile + deep-merged overrides
 *     + parseTierConfig (schema and cross-field rules, so overrides must stay valid).
 *   renderTierFiles(cfg, secrets = TEST_SECRETS) -> the five rendered files.
 *   startTier({ cfg, secrets?, gunicorn?, appEnv?, tamper?, stateDir?, ports?, postgresSettings?, progress? }) -> Tier:
 *     stateDir { dir, keepData } instead of a temp dir: locked for this process (lockStateDir; another
 *     taker gets StateDirInUse), the cluster in `pgdata` reused and kept when keepData, everything else
 *     removed at stop. Postgres with max_connections and
 *     superuser_reserved_connections from cfg.postgres and pg_hba by auth_type; creates the database if missing;
 *     applies database.sql twice with ON_ERROR_STOP; PgBouncer with the rendered pgbouncer.ini and
 *     userlist.txt where only auth_file/logfile/pidfile/unix_socket_dir, listen_addr/listen_port and
 *     the [databases] host/port are rewritten (rewriteIni); optionally Gunicorn with the rendered
 *     gunicorn.conf.py (only bind, chdir, accesslog/errorlog rewritten) and receiver.env (DB_HOST/DB_PORT
 *     pointed at the sandbox PgBouncer) plus the rendered secrets.env, serving the reference app copied from files/receiver into the sandbox.
 *   tier.pgbouncer: pid, port, iniPath, ini, alive(), reload(renderedIni) (rewrite + SIGHUP), stop().
 *   tier.gunicorn: pid, port, baseUrl, workerPids(), appEnv, stop().
 *
 * Processes: initdb, postgres, pgbouncer and gunicorn run as the unprivileged `postgres` account when
 * the caller is root (initdb and pgbouncer refuse root), else as the caller, each in its own process
 * group. Each is ended by its own PID (signal, then SIGKILL after a grace period); every wait is bounded. As a safety net, a process "exit" hook SIGKILLs any PID the harness started
 * (matched by PID and start time) that teardown did not end; trackedAlive() lists them.
 * All files live in one dir (mode 0700, owned by that account): a temp dir removed at stop (set
 * RECEIVER_TIER_IT_KEEP=1 to keep it for debugging) or the state dir. Ports come from the OS (listen on
 * port 0) unless given. debianPackages/missingPackages/aptInstallLine: the package list setup.sh installs.
 * Use /usr/bin/python3 (SYSTEM_PYTHON) for psycopg2: a pyenv python3 on PATH may lack it.
 */
export * from "./clients";
export * from "./gunicorn";
export * from "./lock";
export * from "./packages";
export * from "./pgbouncer";
export * from "./postgres";
export * from "./processes";
export * from "./stack";
export * from "./runningTier";
export * from "./testCa";
