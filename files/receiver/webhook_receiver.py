"""Reference webhook receiver for the receiver tier (WSGI callable ``application``); README "The reference receiver".

Run: ``gunicorn -c gunicorn.conf.py webhook_receiver:application`` (sync or gthread workers), Python 3
stdlib + psycopg2. Settings come from the rendered receiver.env and secrets.env; a missing variable
fails the import, so a misconfigured worker never boots (``gunicorn --check-config`` reports it).

POST /webhooks/<source>: a signed delivery (HMAC-SHA256 of "<timestamp>.<delivery id>.<source>." + raw body)
stored once per (source, delivery id) with the body's SHA-256 in <DB_SCHEMA>.webhook_events (made by
database.sql; the logins may only INSERT and SELECT), 202 only after COMMIT (503 when PostgreSQL reports it as
possibly not replicated to the synchronous standby); a repeat gets the first 202 once it is replicated,
the same id with another body 409; 401 bad signature or stale timestamp; 4xx for a malformed body; lost
connections retried within WEBHOOK_RETRY_BUDGET_SECONDS; 503 + Retry-After by WEBHOOK_ANSWER_WITHIN_SECONDS
at the latest (README "The reference receiver").
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
import socket
import threading
import time
from http import HTTPStatus

import psycopg2
import psycopg2.errors
from psycopg2 import sql

LOG = logging.getLogger("webhook_receiver")

# Matched with fullmatch: "$" would also accept a trailing newline (/webhooks/foo%0a).
SOURCE_PATTERN = re.compile(r"/webhooks/([A-Za-z0-9_.-]{1,64})")
# Path segments with a meaning of their own: a proxy or a log reader would resolve them.
RESERVED_SOURCES = (".", "..")
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
        # Derived from the sender's request timeout (components/model/answerDeadline.ts): answer by then, 503 at the latest.
        self.answer_within = float(need("WEBHOOK_ANSWER_WITHIN_SECONDS"))
        # A connection-class failure is retried on a fresh connection only while this much of the request has passed.
        self.retry_budget = float(need("WEBHOOK_RETRY_BUDGET_SECONDS"))
        self.keepalives_idle = int(need("DB_KEEPALIVES_IDLE"))
        self.keepalives_interval = int(need("DB_KEEPALIVES_INTERVAL"))
        self.keepalives_count = int(need("DB_KEEPALIVES_COUNT"))
        self.tcp_user_timeout_ms = int(need("DB_TCP_USER_TIMEOUT_MS"))


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
    def connection(self, wait_at_most=None):
        wait = self._wait_seconds if wait_at_most is None else max(0.0, min(self._wait_seconds, wait_at_most))
        if not self._slots.acquire(timeout=wait):
            raise PoolTimeout(f"all {self.size} pooled connections busy for {wait:.1f}s")
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
        # A dead PgBouncer host or a cut network shows as an error, not a connection waiting forever.
        keepalives=1,
        keepalives_idle=SETTINGS.keepalives_idle,
        keepalives_interval=SETTINGS.keepalives_interval,
        keepalives_count=SETTINGS.keepalives_count,
        tcp_user_timeout=SETTINGS.tcp_user_timeout_ms,
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


# database.sql (or the Pulumi program) creates the table, owned by a NOLOGIN owner role; the logins
# act as the receivers' group role, which may only INSERT and SELECT it.
EVENTS_TABLE = sql.SQL("{}.webhook_events").format(sql.Identifier(SETTINGS.db_schema))
INSERT_EVENT = sql.SQL(
    "INSERT INTO {} (source, delivery_id, payload, body_sha256) VALUES (%s, %s, %s::jsonb, %s)"
    " ON CONFLICT (source, delivery_id) DO NOTHING RETURNING id"
).format(EVENTS_TABLE)
# PostgreSQL's WARNING when a cancel ends a COMMIT's wait for the synchronous standby; its DETAIL (not always in
# the notice text) says the transaction "might not have been replicated": it may be lost in a crash.
NOT_REPLICATED = "canceling wait for synchronous replication"
# A transactional WAL record of its own: a COMMIT that wrote WAL waits for the synchronous standby (a read-only
# one, even with a transaction id, does not), and once the standby has it, it has everything before it.
WAIT_FOR_STANDBY = "SELECT pg_logical_emit_message(true, 'receiver-tier', 'duplicate')"
FIND_EVENT = sql.SQL("SELECT id, body_sha256 FROM {} WHERE source = %s AND delivery_id = %s").format(EVENTS_TABLE)


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


def authenticate(environ, source, raw):
    """The delivery id of a correctly signed, fresh request to this source."""
    stamp = environ.get(_environ_key(SETTINGS.timestamp_header), "")
    signature = environ.get(_environ_key(SETTINGS.signature_header), "")
    delivery = environ.get(_environ_key(SETTINGS.delivery_header), "")
    if not signature or not TIMESTAMP_PATTERN.match(stamp):
        raise Refused(401, f"{SETTINGS.signature_header} and a Unix-seconds {SETTINGS.timestamp_header} are required")
    if abs(time.time() - int(stamp)) > SETTINGS.replay_window:
        raise Refused(401, f"{SETTINGS.timestamp_header} is outside the {SETTINGS.replay_window}s replay window")
    # WSGI hands header values over as latin-1 text: encoding them back gives the bytes sent.
    # The source is signed too: the same delivery replayed to another /webhooks/<source> does not match.
    message = f"{stamp}.{delivery}.{source}.".encode("latin-1") + raw
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


# SQLSTATEs of a server going away: admin_shutdown, crash_shutdown, cannot_connect_now (starting / shutting down).
SERVER_GONE_CODES = ("57P01", "57P02", "57P03")


def _connection_failed(error):
    """True for errors of the connection, not of the statement: worth a fresh connection."""
    if isinstance(error, psycopg2.errors.QueryCanceled):
        return False  # the role's statement_timeout: the server is slow, not gone; retrying adds load
    code = getattr(error, "pgcode", None)
    if code in SERVER_GONE_CODES or (code or "").startswith("08"):
        # PgBouncer's query_wait_timeout is 08P01 as well: the pool is saturated, not broken.
        return "query_wait_timeout" not in str(error)
    # libpq's own failures (connection refused, server closed the connection unexpectedly, SSL SYSCALL)
    # carry no SQLSTATE; InterfaceError is a connection psycopg2 already saw closed.
    return code is None and isinstance(error, (psycopg2.OperationalError, psycopg2.InterfaceError))


class Watchdog:
    """Shuts the socket of an attempt still running at the deadline (a frozen server: statement_timeout
    cannot fire, conn.cancel() gets no answer). The dup'd descriptor cannot be reused by another connection."""

    def __init__(self, conn, seconds):
        self.fired = False
        self._fd = os.dup(conn.fileno())
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, seconds), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self):
        with self._lock:
            if self._fd is None:
                return
            self.fired = True
            try:
                socket.socket(fileno=os.dup(self._fd)).shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._timer.cancel()
        with self._lock:
            os.close(self._fd)
            self._fd = None
        return False


def _store_once(source, delivery, text, digest, answer_by):
    """One attempt on one pooled connection: (id, duplicate), or Refused, or the database's error."""
    refusal = None
    with DATABASE.connection(wait_at_most=answer_by - time.monotonic()) as conn:
        with Watchdog(conn, answer_by - time.monotonic()) as watchdog:
            try:
                with conn.cursor() as cur:
                    cur.execute(INSERT_EVENT, (source, delivery, text, digest))
                    row = cur.fetchone()
                    duplicate = row is None
                    if duplicate:  # the unique constraint kept the first delivery; answer with its id
                        cur.execute(FIND_EVENT, (source, delivery))
                        row = cur.fetchone()
                        # The first delivery's row may be on the primary only (its COMMIT's wait was cancelled).
                        cur.execute(WAIT_FOR_STANDBY)
                del conn.notices[:]
                conn.commit()  # acknowledged only once committed
                if any(NOT_REPLICATED in notice for notice in conn.notices):
                    raise NotReplicated()
            except (psycopg2.DataError, psycopg2.errors.ProgramLimitExceeded, psycopg2.errors.StatementTooComplex) as error:
                # The payload (\u0000, a lone surrogate, too large for jsonb): the server's text quotes it,
                # so the log gets the SQLSTATE and primary message, the sender a generic reason.
                conn.rollback()
                LOG.warning("webhook from %s refused by the database: SQLSTATE %s %s", source, error.pgcode, error.diag.message_primary)
                refusal = Refused(400, "payload refused by the database")
            except psycopg2.Error:
                if watchdog.fired:
                    raise AnswerDeadline() from None
                raise
    if refusal is not None:  # raised here, so the pool keeps the rolled-back connection
        raise refusal
    if duplicate and row is not None and row[1] is not None and row[1] != digest:
        raise Refused(409, "this delivery id was already stored with a different body")
    return (row[0] if row else None), duplicate


class NotReplicated(Exception):
    """COMMIT returned after a cancel of its wait for the synchronous standby: on the primary, maybe not on the standby."""


class AnswerDeadline(Exception):
    """The attempt did not finish before the request's answer deadline (a frozen PgBouncer or PostgreSQL)."""


# First pause before a retry, doubled up to the cap: a restart takes a fraction of a second to seconds.
RETRY_FIRST_PAUSE_SECONDS = 0.05
RETRY_MAX_PAUSE_SECONDS = 0.5


def store_webhook(source, environ):
    started = time.monotonic()
    answer_by = started + SETTINGS.answer_within
    retry_until = started + SETTINGS.retry_budget
    raw = read_body(environ)
    delivery = authenticate(environ, source, raw)
    text = parse_json(raw)
    digest = hashlib.sha256(raw).hexdigest()
    pause = RETRY_FIRST_PAUSE_SECONDS
    attempts = 0
    while True:
        attempts += 1
        try:
            row_id, duplicate = _store_once(source, delivery, text, digest, answer_by)
            break
        except PoolTimeout as error:
            LOG.warning("webhook from %s not stored: %s", source, error)
            return _unavailable("no database connection free")
        except NotReplicated:
            # Stored here, not yet confirmed on the standby: the sender's resend is a duplicate whose COMMIT waits for it.
            LOG.warning("webhook from %s committed but possibly not replicated to the synchronous standby; answering 503", source)
            return _unavailable("not confirmed replicated")
        except AnswerDeadline:
            LOG.warning("webhook from %s not stored: no answer from the database within %ss", source, SETTINGS.answer_within)
            return _unavailable("database not answering")
        except psycopg2.errors.QueryCanceled as error:  # 57014: the role's statement_timeout
            LOG.warning("webhook from %s not stored: %s", source, _one_line(error))
            return _unavailable("database timeout")
        except psycopg2.Error as error:
            retry = _connection_failed(error) and time.monotonic() + pause < retry_until
            LOG.warning(
                "webhook from %s attempt %d: %s%s", source, attempts, _one_line(error), "; retrying on a fresh connection" if retry else ""
            )
            if not retry:
                return _unavailable("database unavailable")
            time.sleep(pause)
            pause = min(pause * 2, RETRY_MAX_PAUSE_SECONDS)
    body = {"id": row_id}
    if duplicate:
        body["duplicate"] = True
    return 202, body, []


def route(environ):
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "")
    if path == SETTINGS.health_path:
        return health() if method in ("GET", "HEAD") else (405, {"error": "use GET"}, [])
    match = SOURCE_PATTERN.fullmatch(path)
    if match:
        if method != "POST":
            return 405, {"error": "use POST"}, []
        if match.group(1) in RESERVED_SOURCES:
            return 400, {"error": "source may not be '.' or '..'"}, []
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
