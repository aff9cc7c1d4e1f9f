"""Reference webhook receiver for the receiver tier (WSGI callable ``application``); README "The reference receiver".

Run: ``gunicorn -c gunicorn.conf.py webhook_receiver:application`` (sync or gthread workers), Python 3
stdlib + psycopg2. Settings come from the rendered receiver.env and secrets.env; a missing variable
fails the import, so a misconfigured worker never boots (``gunicorn --check-config`` reports it).

POST /webhooks/<source>: a signed delivery (HMAC-SHA256 of "<timestamp>.<delivery id>." + raw body)
stored once per (source, delivery id) in <DB_SCHEMA>.webhook_events (the schema of the receivers'
group role, which both alternating logins act as), 202 only after COMMIT; 401 bad signature or stale
timestamp; 4xx with a reason for any malformed body; 503 + Retry-After when the database cannot take it now.
GET HEALTH_PATH: the runbook's JSON, answered well inside the ALB's 5 s timeout.
Connections to PgBouncer use DB_SSLMODE (verify-full with DB_SSLROOTCERT on AWS stacks).

The startup parameter 'options' is never sent: with transaction pooling the statement timeout comes
from the role's settings, not from the client.
"""

import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time
from http import HTTPStatus

import psycopg2
import psycopg2.errors
from psycopg2 import sql

LOG = logging.getLogger("webhook_receiver")

SOURCE_PATTERN = re.compile(r"^/webhooks/([A-Za-z0-9_.-]{1,64})$")
DELIVERY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
TIMESTAMP_PATTERN = re.compile(r"^[0-9]{1,12}$")
READ_CHUNK_BYTES = 64 * 1024
# Health waits this long for SELECT 1, then at most one console login: well inside the ALB's 5 s.
HEALTH_BUDGET_SECONDS = 1.5
CONSOLE_CONNECT_TIMEOUT_SECONDS = 2  # libpq's smallest


def _environ_key(header):
    """The WSGI environ key of an HTTP header."""
    return "HTTP_" + header.upper().replace("-", "_")


class Settings:

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
        self.signing_key = need("WEBHOOK_SIGNING_SECRET").encode("utf-8")
        self.delivery_header = need("WEBHOOK_DELIVERY_ID_HEADER")
        self.signature_header = need("WEBHOOK_SIGNATURE_HEADER")
        self.timestamp_header = need("WEBHOOK_TIMESTAMP_HEADER")
        self.replay_window = int(need("WEBHOOK_REPLAY_WINDOW_SECONDS"))
        self.max_body = int(need("WEBHOOK_MAX_BODY_BYTES"))
        self.retry_after = int(need("WEBHOOK_RETRY_AFTER_SECONDS"))


class PoolTimeout(Exception):
    pass


class Refused(Exception):
    """A 4xx with a reason; nothing stored."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class ConnectionPool:
    """At most `size` connections, reused unless they saw an error or are older than `recycle` s (0: never)."""

    def __init__(self, size, wait_seconds, recycle, connect):
        self.size = size
        self._connect = connect
        self._wait_seconds = wait_seconds
        self._recycle = recycle
        self._slots = threading.BoundedSemaphore(size)
        self._idle = []  # (connection, opened_at)
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def connection(self):
        if not self._slots.acquire(timeout=self._wait_seconds):
            raise PoolTimeout(f"all {self.size} pooled connections busy for {self._wait_seconds}s")
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
        connect_timeout=CONSOLE_CONNECT_TIMEOUT_SECONDS,
        application_name="webhook_receiver_health",
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
    "CREATE TABLE IF NOT EXISTS {} (id bigserial PRIMARY KEY, source text NOT NULL, delivery_id text NOT NULL,"
    " payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now(), UNIQUE (source, delivery_id))"
).format(EVENTS_TABLE)
INSERT_EVENT = sql.SQL(
    "INSERT INTO {} (source, delivery_id, payload) VALUES (%s, %s, %s::jsonb)"
    " ON CONFLICT (source, delivery_id) DO NOTHING RETURNING id"
).format(EVENTS_TABLE)
FIND_EVENT = sql.SQL("SELECT id FROM {} WHERE source = %s AND delivery_id = %s").format(EVENTS_TABLE)
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
    except (psycopg2.errors.UniqueViolation, psycopg2.errors.DuplicateTable, psycopg2.errors.DuplicateObject):
        conn.rollback()
    _table_ready = True


DATABASE = ConnectionPool(SETTINGS.conn_max, SETTINGS.conn_timeout, SETTINGS.conn_recycle, _connect_database)


def _rows(cursor, statement):
    cursor.execute(statement)
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _one_line(error):
    """An error as one short line."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:300]


class Console:
    """The worker's PgBouncer console connection, held (a login costs more than the check), re-opened on failure."""

    def __init__(self):
        self._lock = threading.Lock()
        self._conn = None

    def pool_stats(self):
        if not self._lock.acquire(timeout=CONSOLE_CONNECT_TIMEOUT_SECONDS):
            raise TimeoutError("another health check holds the console connection")
        try:
            held = self._conn is not None and not self._conn.closed
            try:
                return self._show()
            except psycopg2.Error:
                if not held:
                    raise
                # A stale connection (PgBouncer restarted, client_idle_timeout) fails at once: one fresh login.
                return self._show()
        finally:
            self._lock.release()

    def _show(self):
        if self._conn is None or self._conn.closed:
            self._conn = _connect_console()
        try:
            with self._conn.cursor() as cur:
                pools = _rows(cur, "SHOW POOLS")
                databases = _rows(cur, "SHOW DATABASES")
        except psycopg2.Error:
            _close(self._conn)
            self._conn = None
            raise
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


class DatabaseProbe:
    """SELECT 1 through the pool in its own thread (one per worker): a saturated pool delays it, not the answer."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running = None  # (done event, outcome dict) of the probe in flight

    def start(self):
        with self._lock:
            if self._running is None:
                self._running = (threading.Event(), {})
                threading.Thread(target=self._probe, args=self._running, daemon=True).start()
            return self._running

    def _probe(self, done, outcome):
        try:
            with DATABASE.connection() as conn:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1")
                    cur.fetchone()
                conn.commit()  # end the transaction: PgBouncer hands the server connection back
        except Exception as error:
            outcome["error"] = _one_line(error)
        finally:
            with self._lock:
                self._running = None
            done.set()


CONSOLE = Console()
PROBE = DatabaseProbe()


def health():
    started = time.monotonic()
    body, reason = {}, None
    done, outcome = PROBE.start()
    if not done.wait(HEALTH_BUDGET_SECONDS):
        LOG.warning("health: SELECT 1 through the pool still waiting after %ss", HEALTH_BUDGET_SECONDS)
        reason = f"database: no answer through the pool within {HEALTH_BUDGET_SECONDS}s"
    elif "error" in outcome:
        # The endpoint is public: the reason names the failing part, the log has the details.
        LOG.warning("health: database check failed: %s", outcome["error"])
        reason = "database: query through the pool failed"
    try:
        body["db_pool"] = CONSOLE.pool_stats()
    except Exception as error:
        LOG.warning("health: pgbouncer stats failed: %s", _one_line(error))
        reason = reason or "pgbouncer stats: SHOW POOLS failed"
    body["status"] = "unhealthy" if reason else "healthy"
    if reason:
        body["reason"] = reason
    body["response_time_ms"] = round((time.monotonic() - started) * 1000, 1)
    ordered = {key: body[key] for key in ("status", "reason", "db_pool", "response_time_ms") if key in body}
    return (503 if reason else 200), ordered, []


def _read_up_to(stream, limit):
    parts, total = [], 0
    while total < limit:
        chunk = stream.read(min(READ_CHUNK_BYTES, limit - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


def read_body(environ):
    cap = SETTINGS.max_body
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared and not re.fullmatch(r"[0-9]{1,18}", declared):
        raise Refused(400, "bad Content-Length")
    if declared and int(declared) > cap:
        raise Refused(413, f"body of {declared} bytes is above the {cap}-byte limit")
    # Without Content-Length (chunked, or no body): read one byte past the cap to tell "at" from "above".
    wanted = int(declared) if declared else cap + 1
    try:
        raw = _read_up_to(environ["wsgi.input"], wanted)
    except Exception as error:  # Gunicorn's own chunk parser: a malformed chunk, a body cut short
        raise Refused(400, f"body could not be read: {_one_line(error)}") from None
    if len(raw) > cap:
        raise Refused(413, f"chunked body above the {cap}-byte limit")
    if declared and len(raw) < wanted:
        raise Refused(400, f"body ended after {len(raw)} of {declared} bytes")
    if not raw:
        raise Refused(400, "empty body")
    return raw


def authenticate(environ, raw):
    """The delivery id of a correctly signed, fresh request."""
    stamp = environ.get(_environ_key(SETTINGS.timestamp_header), "")
    signature = environ.get(_environ_key(SETTINGS.signature_header), "")
    delivery = environ.get(_environ_key(SETTINGS.delivery_header), "")
    if not signature or not TIMESTAMP_PATTERN.match(stamp):
        raise Refused(401, f"{SETTINGS.signature_header} and a Unix-seconds {SETTINGS.timestamp_header} are required")
    if abs(time.time() - int(stamp)) > SETTINGS.replay_window:
        raise Refused(401, f"{SETTINGS.timestamp_header} is outside the {SETTINGS.replay_window}s replay window")
    # WSGI hands header values over as latin-1 text: encoding them back gives the bytes sent.
    message = f"{stamp}.{delivery}.".encode("latin-1") + raw
    expected = "sha256=" + hmac.new(SETTINGS.signing_key, message, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("latin-1")):
        raise Refused(401, f"{SETTINGS.signature_header} does not match the body")
    if not DELIVERY_ID_PATTERN.match(delivery):
        raise Refused(400, f"{SETTINGS.delivery_header} must be 1-128 characters of [A-Za-z0-9_.:-]")
    return delivery


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw):
    """The body as JSON text jsonb accepts."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Refused(400, f"body is not UTF-8: {_one_line(error)}") from None
    if "\x00" in text:
        raise Refused(400, "body contains a NUL byte")
    try:
        json.loads(text, parse_constant=_reject_constant)  # jsonb refuses NaN/Infinity too
    except RecursionError:
        raise Refused(400, "JSON nested too deeply") from None
    except ValueError as error:
        raise Refused(400, f"body is not JSON: {_one_line(error)}") from None
    return text


def _unavailable(reason):
    return 503, {"error": f"not stored, retry later: {reason}"}, [("Retry-After", str(SETTINGS.retry_after))]


def store_webhook(source, environ):
    raw = read_body(environ)
    delivery = authenticate(environ, raw)
    text = parse_json(raw)
    refusal = None
    try:
        with DATABASE.connection() as conn:
            _ensure_events_table(conn)
            try:
                with conn.cursor() as cur:
                    cur.execute(INSERT_EVENT, (source, delivery, text))
                    row = cur.fetchone()
                    duplicate = row is None
                    if duplicate:  # the unique constraint kept the first delivery; answer with its id
                        cur.execute(FIND_EVENT, (source, delivery))
                        row = cur.fetchone()
                conn.commit()  # acknowledged only once committed
            except (psycopg2.DataError, psycopg2.errors.ProgramLimitExceeded, psycopg2.errors.StatementTooComplex) as error:
                # The payload (\u0000, a lone surrogate, too large for jsonb); the connection is fine once rolled back.
                conn.rollback()
                refusal = Refused(400, f"payload refused by the database: {_one_line(error)}")
    except PoolTimeout as error:
        LOG.warning("webhook from %s not stored: %s", source, error)
        return _unavailable("no database connection free")
    except psycopg2.errors.QueryCanceled as error:  # 57014: the role's statement_timeout
        LOG.warning("webhook from %s not stored: %s", source, _one_line(error))
        return _unavailable("database timeout")
    except psycopg2.Error as error:
        LOG.warning("webhook from %s not stored: %s", source, _one_line(error))
        return _unavailable("database unavailable")
    if refusal is not None:
        raise refusal
    body = {"id": row[0] if row else None}
    if duplicate:
        body["duplicate"] = True
    return 202, body, []


def route(environ):
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "")
    if path == SETTINGS.health_path:
        return health() if method in ("GET", "HEAD") else (405, {"error": "use GET"}, [])
    match = SOURCE_PATTERN.match(path)
    if match:
        if method != "POST":
            return 405, {"error": "use POST"}, []
        try:
            return store_webhook(match.group(1), environ)
        except Refused as refused:
            return refused.status, {"error": refused.reason}, []
    return 404, {"error": "not found"}, []


def application(environ, start_response):
    status, body, headers = route(environ)
    payload = json.dumps(body).encode("utf-8")
    start_response(f"{status} {HTTPStatus(status).phrase}", [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(payload))),
        ("Cache-Control", "no-store"),
        *headers,
    ])
    return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [payload]
