#!/bin/bash
# As a receiver host runs it: the rendered nginx.conf only once `nginx -t` accepted it, nginx in front of
# Gunicorn (which listens on the container's loopback), and the rendered receiver.env and secrets.env
# loaded as systemd would. Either program ending ends the container, so Docker restarts both.
set -euo pipefail
set -a
# shellcheck source=/dev/null
. /etc/webhook-receiver/receiver.env
# shellcheck source=/dev/null
. /etc/webhook-receiver/secrets.env
set +a
nginx -t -q -c /etc/receiver-tier/nginx.conf
runuser -u webhook-receiver -- /usr/bin/gunicorn -c /etc/webhook-receiver/gunicorn.conf.py &
nginx -c /etc/receiver-tier/nginx.conf -g 'daemon off;' &
wait -n
exit 1
