#!/bin/sh
# Publishes one value of this host to CloudWatch twice: with its Host dimension, and without any
# dimension for the fleet-wide alarms.
# Usage: receiver-tier-put-metric NAME VALUE UNIT
set -eu
# shellcheck source=/dev/null
. "${RECEIVER_TIER_METRICS_ENV:-/etc/receiver-tier/metrics.env}"
host=$(receiver-tier-host-id)
datum='{"MetricName":"%s","Value":%s,"Unit":"%s"%s}'
# shellcheck disable=SC2059
data="[$(printf "$datum" "$1" "$2" "$3" ",\"Dimensions\":[{\"Name\":\"Host\",\"Value\":\"$host\"}]"),$(printf "$datum" "$1" "$2" "$3" "")]"
aws cloudwatch put-metric-data --region "$AWS_REGION" --namespace "$METRICS_NAMESPACE" --metric-data "$data"
