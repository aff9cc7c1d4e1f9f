#!/bin/sh
# Fetches the receiver's secrets.env at the parameter version this instance's launch template
# names: a rotation rolls the group, and an old instance that restarts meanwhile keeps the login
# it started with. Runs before every start of webhook-receiver.service (ExecStartPre), retrying,
# so a reboot, a restart or an SSM hiccup at boot recovers by itself.
set -eu
# shellcheck source=/dev/null
. "${RECEIVER_TIER_HOST_ENV:-/etc/receiver-tier/receiver-host.env}"
TARGET=${RECEIVER_TIER_SECRETS_ENV:-/etc/webhook-receiver/secrets.env}
RETRY_DELAY=${RECEIVER_TIER_RETRY_DELAY:-6}
GROUP=${RECEIVER_TIER_SECRETS_GROUP:-webhook-receiver}

umask 077
staged=$(mktemp "$TARGET.XXXXXX")
trap 'rm -f "$staged"' EXIT
attempt=1
until aws ssm get-parameter --region "$AWS_REGION" --name "$SECRETS_PARAMETER:$SECRETS_VERSION" --with-decryption \
    --query Parameter.Value --output text >"$staged"; do
    if [ "$attempt" -ge 10 ]; then
        echo "cannot read $SECRETS_PARAMETER:$SECRETS_VERSION after $attempt attempts" >&2
        exit 1
    fi
    attempt=$((attempt + 1))
    sleep "$RETRY_DELAY"
done
chgrp "$GROUP" "$staged"
chmod 0640 "$staged"
mv "$staged" "$TARGET"
