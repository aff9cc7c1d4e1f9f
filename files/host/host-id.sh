#!/bin/sh
# Prints this instance's id (IMDSv2), the Host dimension of its metrics.
set -eu
if [ -n "${RECEIVER_TIER_HOST_ID:-}" ]; then
    echo "$RECEIVER_TIER_HOST_ID"
    exit 0
fi
IMDS=${RECEIVER_TIER_IMDS:-http://169.254.169.254}
token=$(curl -fsS -X PUT "$IMDS/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')
curl -fsS -H "X-aws-ec2-metadata-token: $token" "$IMDS/latest/meta-data/instance-id"
