#!/bin/sh
# Every minute (receiver-tier-metrics.timer): the pools' metrics from PgBouncer's console and this
# host's health check result, to CloudWatch. Fails (the unit shows it) when either could not be sent.
set -u
# shellcheck source=/dev/null
. "${RECEIVER_TIER_METRICS_ENV:-/etc/receiver-tier/metrics.env}"
# The host's own check logins: PGHOST/PGPORT of the local PgBouncer, STATS_USER/STATS_PASSWORD.
set -a
# shellcheck source=/dev/null
. "${RECEIVER_TIER_HEALTH_ENV:-/etc/receiver-tier/pgbouncer-health.env}"
set +a
HOST_ID=$(receiver-tier-host-id) || exit 1
export HOST_ID AWS_REGION METRICS_NAMESPACE
status=0
"${RECEIVER_TIER_COLLECTOR:-/usr/local/lib/receiver-tier/pgbouncer-metrics.py}" || status=1
if receiver-tier-pgbouncer-health check >/dev/null; then healthy=1; else healthy=0; fi
receiver-tier-put-metric PgbouncerHostHealthy "$healthy" Count || status=1
exit "$status"
