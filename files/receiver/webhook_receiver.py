"""Reference webhook receiver for the receiver tier (WSGI callable ``application``).

Run: ``gunicorn -c gunicorn.conf.py webhook_receiver:application``. Python 3 stdlib + psycopg2.

Configuration comes from the environment: the rendered receiver.env (DB_HOST, DB_PORT,
DB_NAME = the PgBouncer [databases] alias, DB_USER, DB_SCHEMA, DB_SSLMODE (+ DB_SSLROOTCERT), DB_CONN_MAX, DB_CONN_RECYCLE,
DB_CONN_TIMEOUT, PGBOUNCER_STATS_USER, PGBOUNCER_ADMIN_DB, HEALTH_PATH) plus the secrets
DB_PASSWORD and PGBOUNCER_STATS_PASSWORD from the secret store. A missing variable fails the
import, so a misconfigured worker never boots (and ``gunicorn --check-config`` reports it).

Routes:
  POST /webhooks/<source>  stores the JSON body in <DB_SCHEMA>.webhook_events (the schema the
                           tier gives the receivers' group role; the app creates its table there on
                           first use, as an app runs its own migrations); 202 only after
                           COMMIT, so every acknowledged webhook is committed. Bad JSON: 400.
  GET  HEALTH_PATH         the runbook's shape: {"status", "db_pool": {active, idle, waiting,
                           max}, "response_time_ms"} from PgBouncer's SHOW POOLS / SHOW
                           DATABASES plus a real SELECT 1 through the pool; 503 "unhealthy"
                           with a reason when the pool cannot serve.

Connections: each worker process keeps at most DB_CONN_MAX connections to PgBouncer (a sync
worker uses one), reuses them across requests, and drops one on any error so the next request
reconnects. The startup parameter 'options' is never sent: with transaction pooling the
statement timeout comes from the role's settings, not from the client.
"""

import contextlib
import json
import logging
import os
import re
import threading
import time

import psycopg2
import psycopg2.errors
from psycopg2 import sql

LOG = logging.getLogger("webhook_receiver")

MAX_BODY_BYTES = 1024 * 1024
SOURCE_PATTERN = re.compile(r"^/webhooks/([A-Za-z0-9_.-]{1,64})$")


class Settings:
    """The receiver's environment, read once per worker."""

    def __init__(self, env):
        def need(name):
            value = env.get(name, "")
            if value == "":
                raise RuntimeError(f"webhook_receiver: environment variable {name} is not set")
            return value

        self.db_host = need("DB_HOST")
        self.db_port = int(need("DB_PORT"))
        self.db_name = need("DB_NAME")
        self.db_user = need("DB_USER")
        self.db_schema = need("DB_SCHEMA")
        self.db_password = need("DB_PASSWORD")
        self.db_sslmode = need("DB_SSLMODE")
        # The CA of PgBouncer's certificate (sslmode verify-full); unset where PgBouncer has TLS off.
        self.db_sslrootcert = env.get("DB_SSLROOTCERT") or None
        self.conn_max = int(need("DB_CONN_MAX"))
        self.conn_timeout = int(need("DB_CONN_TIMEOUT"))
        self.conn_recycle = int(env.get("DB_CONN_RECYCLE", "0"))
        self.stats_user = need("PGBOUNCER_STATS_USER")
        self.stats_password = need("PGBOUNCER_STATS_PASSWORD")
        self.admin_db = need("PGBOUNCER_ADMIN_DB")
        self.health_path = need("HEALTH_PATH")


class PoolTimeout(Exception):
    pass


class ConnectionPool:
    """At most `size` connections, reused; one that saw an error is closed, not reused.

    Connections older than `recycle` seconds (0: never) are closed when taken and reopened.
    """

    def __init__(self, size, wait_seconds, recycle, connect):
        self._connect = connect
        self._wait_seconds = wait_seconds
        self._recycle = recycle
        self._slots = threading.BoundedSemaphore(size)
        self._idle = []  # (connection, opened_at)
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def connection(self):
        if not self._slots.acquire(timeout=self._wait_seconds):
            raise PoolTimeout(f"no connection free within {self._wait_seconds}s")
        conn = opened = None
        try:
            with self._lock:
                if self._idle:
                    conn, opened = self._idle.pop()
            if conn is not None and (conn.closed or (self._recycle and time.monotonic() - opened > self._recycle)):
                _close(conn)
                conn = None
            if conn is None:
                conn, opened = self._connect(), time.monotonic()
            yield conn
        except BaseException:
            if conn is not None:
                _close(conn)
            raise
        else:
            with self._lock:
                self._idle.append((conn, opened))
        finally:
            self._slots.release()


def _close(conn):
    try:
        conn.close()
    except Exception:  # already broken: nothing to release
        pass


SETTINGS = Settings(os.environ)


def _connect_database():
    # options="" also overrides a PGOPTIONS variable: PgBouncer must never see 'options'.
    return psycopg2.connect(
        host=SETTINGS.db_host,
        port=SETTINGS.db_port,
        dbname=SETTINGS.db_name,
        user=SETTINGS.db_user,
        password=SETTINGS.db_password,
        connect_timeout=SETTINGS.conn_timeout,
        sslmode=SETTINGS.db_sslmode,
        sslrootcert=SETTINGS.db_sslrootcert,
        application_name="webhook_receiver",
        options="",
    )


def _connect_console():
    conn = psycopg2.connect(
        host=SETTINGS.db_host,
        port=SETTINGS.db_port,
        dbname=SETTINGS.admin_db,
        user=SETTINGS.stats_user,
        password=SETTINGS.stats_password,
        connect_timeout=SETTINGS.conn_timeout,
        sslmode=SETTINGS.db_sslmode,
        sslrootcert=SETTINGS.db_sslrootcert,
        options="",
    )
    conn.autocommit = True  # the console accepts SHOW commands only, no BEGIN
    return conn


# The receivers' group role owns the schema named after it (database.sql / the Pulumi program);
# both alternating logins act as that role, so the table is the same whichever login is active.
EVENTS_TABLE = sql.SQL("{}.webhook_events").format(sql.Identifier(SETTINGS.db_schema))
CREATE_EVENTS_TABLE = sql.SQL(
    "CREATE TABLE IF NOT EXISTS {} (id bigserial PRIMARY KEY, source text NOT NULL,"
    " payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())"
).format(EVENTS_TABLE)
INSERT_EVENT = sql.SQL("INSERT INTO {} (source, payload) VALUES (%s, %s::jsonb) RETURNING id").format(EVENTS_TABLE)
_table_ready = False


def _ensure_events_table(conn):
    """Creates the events table once per worker; another worker winning the race is fine."""
    global _table_ready
    if _table_ready:
        return
    try:
        with conn.cursor() as cur:
            cur.execute(CREATE_EVENTS_TABLE)
        conn.commit()
    except (psycopg2.errors.UniqueViolation, psycopg2.errors.DuplicateTable):
        conn.rollback()
    _table_ready = True


DATABASE = ConnectionPool(SETTINGS.conn_max, SETTINGS.conn_timeout, SETTINGS.conn_recycle, _connect_database)


def _rows(cursor, sql):
    cursor.execute(sql)
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _pool_stats():
    """db_pool from PgBouncer's console: this pool's clients and servers, and its size.

    A console connection per check, closed again: a held one per worker would count against
    max_client_conn on top of the pool the capacity rule accounts for.
    """
    conn = _connect_console()
    try:
        with conn.cursor() as cur:
            pools = _rows(cur, "SHOW POOLS")
            databases = _rows(cur, "SHOW DATABASES")
    finally:
        _close(conn)
    pool = next((p for p in pools if p["database"] == SETTINGS.db_name and p["user"] == SETTINGS.db_user), None)
    database = next((d for d in databases if d["name"] == SETTINGS.db_name), None)
    if pool is None or database is None:
        raise LookupError(f"PgBouncer has no pool {SETTINGS.db_name}/{SETTINGS.db_user}")
    return {
        "active": int(pool["cl_active"]),
        "idle": int(pool["sv_idle"]),
        "waiting": int(pool["cl_waiting"]),
        "max": int(database["pool_size"]),
    }


def _one_line(error):
    """An error as one short line, e.g. "FATAL: query_wait_timeout" from PgBouncer."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:300]


def health():
    started = time.monotonic()
    body, reason = {}, None
    try:
        with DATABASE.connection() as conn:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                cur.fetchone()
            conn.commit()  # end the transaction: PgBouncer hands the server connection back
    except Exception as error:
        # The endpoint is public: the reason names the failing part, the log has the details.
        LOG.warning("health: database check failed: %s", _one_line(error))
        reason = "database: query through the pool failed"
    try:
        body["db_pool"] = _pool_stats()
    except Exception as error:
        LOG.warning("health: pgbouncer stats failed: %s", _one_line(error))
        reason = reason or "pgbouncer stats: SHOW POOLS failed"
    body["status"] = "unhealthy" if reason else "healthy"
    if reason:
        body["reason"] = reason
    body["response_time_ms"] = round((time.monotonic() - started) * 1000, 1)
    ordered = {key: body[key] for key in ("status", "reason", "db_pool", "response_time_ms") if key in body}
    return (503 if reason else 200), ordered


def store_webhook(source, environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 400, {"error": "bad Content-Length"}
    if length > MAX_BODY_BYTES:
        return 413, {"error": f"body above {MAX_BODY_BYTES} bytes"}
    raw = environ["wsgi.input"].read(length)
    try:
        text = raw.decode("utf-8")
        json.loads(text, parse_constant=_reject_constant)  # jsonb refuses NaN/Infinity too
    except (UnicodeDecodeError, ValueError) as error:
        return 400, {"error": f"body is not JSON: {_one_line(error)}"}
    try:
        with DATABASE.connection() as conn:
            _ensure_events_table(conn)
            with conn.cursor() as cur:
                cur.execute(INSERT_EVENT, (source, text))
                (event_id,) = cur.fetchone()
            conn.commit()  # acknowledged only once committed
    except psycopg2.DataError as error:  # e.g. \u0000 inside a JSON string
        return 400, {"error": f"payload refused: {_one_line(error)}"}
    except Exception as error:
        LOG.warning("webhook from %s not stored: %s", source, _one_line(error))
        return 503, {"error": "not stored, retry later"}
    return 202, {"id": event_id}


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def route(environ):
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "")
    if path == SETTINGS.health_path:
        return health() if method in ("GET", "HEAD") else (405, {"error": "use GET"})
    match = SOURCE_PATTERN.match(path)
    if match:
        return store_webhook(match.group(1), environ) if method == "POST" else (405, {"error": "use POST"})
    return 404, {"error": "not found"}


REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           413: "Payload Too Large", 503: "Service Unavailable"}


def application(environ, start_response):
    status, body = route(environ)
    payload = json.dumps(body).encode("utf-8")
    start_response(f"{status} {REASONS[status]}", [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(payload))),
        ("Cache-Control", "no-store"),
    ])
    return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [payload]
