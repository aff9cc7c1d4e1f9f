#!/bin/sh
# Completes this instance's launch lifecycle hook once it has proven itself: CONTINUE as soon as
# the readiness command succeeds, ABANDON (the group terminates the instance) when it has not by
# the deadline. Until then the group keeps the instance out of service: no traffic and no
# progress for an instance refresh, which therefore stops and rolls back instead of replacing
# good instances with broken ones.
# Usage: receiver-tier-complete-launch <readiness command> [args...]
set -eu
# shellcheck source=/dev/null
. "${RECEIVER_TIER_LAUNCH_ENV:-/etc/receiver-tier/launch.env}"
IMDS=${RECEIVER_TIER_IMDS:-http://169.254.169.254}
RETRY_DELAY=${RECEIVER_TIER_RETRY_DELAY:-5}

token=$(curl -fsS -X PUT "$IMDS/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 600')
instance=$(curl -fsS -H "X-aws-ec2-metadata-token: $token" "$IMDS/latest/meta-data/instance-id")
group=$(aws autoscaling describe-auto-scaling-instances --region "$AWS_REGION" --instance-ids "$instance" \
    --query 'AutoScalingInstances[0].AutoScalingGroupName' --output text)

deadline=$(($(date +%s) + READINESS_DEADLINE_SECONDS))
result=ABANDON
while [ "$(date +%s)" -lt "$deadline" ]; do
    if reason=$("$@" 2>&1); then
        result=CONTINUE
        break
    fi
    sleep "$RETRY_DELAY"
done
logger -t receiver-tier-launch "readiness: $result (${reason:-no answer})"
aws autoscaling complete-lifecycle-action --region "$AWS_REGION" --lifecycle-hook-name "$LIFECYCLE_HOOK_NAME" \
    --auto-scaling-group-name "$group" --instance-id "$instance" --lifecycle-action-result "$result"
[ "$result" = CONTINUE ]
