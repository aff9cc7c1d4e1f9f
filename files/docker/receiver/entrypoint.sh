#!/bin/sh
# Loads the rendered receiver.env and secrets.env the stack uploaded, as systemd would, then runs Gunicorn.
set -eu
set -a
# shellcheck source=/dev/null
. /etc/webhook-receiver/receiver.env
# shellcheck source=/dev/null
. /etc/webhook-receiver/secrets.env
set +a
exec runuser -u webhook-receiver -- /usr/bin/gunicorn -c /etc/webhook-receiver/gunicorn.conf.py
