#!/bin/sh
# Session Manager's agent (README "A shell on a host"): $SSM_AGENT_PACKAGE of $AWS_REGION, from its unit.
set -eu
deb=${RECEIVER_TIER_SSM_DEB:-/run/amazon-ssm-agent.deb}
n=1
until aws s3 cp --only-show-errors --region "$AWS_REGION" "$SSM_AGENT_PACKAGE" "$deb"; do
    [ "$n" -ge 10 ] && { echo "could not fetch $SSM_AGENT_PACKAGE" >&2; exit 1; }
    n=$((n + 1))
    sleep "${RECEIVER_TIER_RETRY_DELAY:-6}"
done
dpkg -i "$deb"
systemctl enable --now amazon-ssm-agent.service
