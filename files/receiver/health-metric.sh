#!/bin/sh
# Every minute (receiver-tier-health-metric.timer): this receiver's own health check result
# (ReceiverHealthy 1 or 0), the same check that admitted it at launch.
set -u
# shellcheck source=/dev/null
. "${RECEIVER_TIER_METRICS_ENV:-/etc/receiver-tier/metrics.env}"
if curl -fsS -o /dev/null --max-time 5 "$LOCAL_HEALTH_URL"; then healthy=1; else healthy=0; fi
receiver-tier-put-metric ReceiverHealthy "$healthy" Count
