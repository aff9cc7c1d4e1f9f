#!/bin/sh
# Is this PgBouncer host fit to take traffic? More than an open port: a real login through the
# local PgBouncer, as the receivers' active login, running SELECT 1 on PostgreSQL within
# PGCONNECT_TIMEOUT and PgBouncer's query_wait_timeout. When every host fails (PostgreSQL down, or
# every pool full) the NLB fails open and keeps sending to all of them; the group replaces none.
#   check  exit 0 when fit (launch readiness), with the reason on stdout
#   http   answer one HTTP request on stdin/stdout (socket-activated NLB health check): 200 or 503
set -u
HEALTH_ENV=${RECEIVER_TIER_HEALTH_ENV:-/etc/receiver-tier/pgbouncer-health.env}

check() {
    # shellcheck source=/dev/null
    . "$HEALTH_ENV" || return 1
    export PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGCONNECT_TIMEOUT PGSSLMODE PGSSLROOTCERT
    out=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -c 'SELECT 1' 2>&1)
    case "$out" in
    1)
        echo "healthy"
        ;;
    *)
        echo "unhealthy: $(printf '%s\n' "$out" | head -n 1)"
        return 1
        ;;
    esac
}

case "${1:-check}" in
check)
    check
    ;;
http)
    read -r _request_line || true
    # Read the headers up to their blank line before answering: closing the socket with bytes still
    # unread makes the kernel reset the connection, which the NLB may count as a failed check.
    cr=$(printf '\r')
    while IFS= read -r header; do
        [ "$header" = "" ] || [ "$header" = "$cr" ] && break
    done
    if reason=$(check); then status="200 OK"; else status="503 Service Unavailable"; fi
    printf 'HTTP/1.0 %s\r\nContent-Type: text/plain\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s\n' \
        "$status" "$((${#reason} + 1))" "$reason"
    ;;
*)
    echo "usage: $0 [check|http]" >&2
    exit 2
    ;;
esac
