#!/bin/sh
# Installs the app (the reference app unless APP_ARTIFACT_URL is set) and starts Gunicorn, whose
# unit fetches the secrets before every start. Run by cloud-init at boot.
set -eu
# shellcheck source=/dev/null
. /etc/receiver-tier/receiver-host.env

if [ -n "${APP_ARTIFACT_URL:-}" ]; then
    attempt=1
    until rm -rf /opt/webhook-receiver/app.new && mkdir -p /opt/webhook-receiver/app.new &&
        aws s3 cp --region "$AWS_REGION" "$APP_ARTIFACT_URL" - | tar -xz -C /opt/webhook-receiver/app.new; do
        [ "$attempt" -ge 10 ] && exit 1
        attempt=$((attempt + 1))
        sleep 6
    done
    rm -rf /opt/webhook-receiver/app
    mv /opt/webhook-receiver/app.new /opt/webhook-receiver/app
fi

systemctl daemon-reload
systemctl enable --now webhook-receiver.service
