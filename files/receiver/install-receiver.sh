#!/bin/sh
# Fetches the receiver's secrets, installs the app (reference app unless APP_ARTIFACT_URL is set)
# and (re)starts Gunicorn. Run by cloud-init at boot.
set -eu
# shellcheck source=/dev/null
. /etc/receiver-tier/receiver-host.env

umask 077
aws ssm get-parameter --region "$AWS_REGION" --name "$SECRETS_PARAMETER" --with-decryption \
    --query Parameter.Value --output text >/etc/webhook-receiver/secrets.env
chown root:webhook-receiver /etc/webhook-receiver/secrets.env
chmod 0640 /etc/webhook-receiver/secrets.env
umask 022

if [ -n "${APP_ARTIFACT_URL:-}" ]; then
    rm -rf /opt/webhook-receiver/app.new
    mkdir -p /opt/webhook-receiver/app.new
    aws s3 cp --region "$AWS_REGION" "$APP_ARTIFACT_URL" - | tar -xz -C /opt/webhook-receiver/app.new
    rm -rf /opt/webhook-receiver/app
    mv /opt/webhook-receiver/app.new /opt/webhook-receiver/app
fi

systemctl daemon-reload
systemctl enable --now webhook-receiver.service
