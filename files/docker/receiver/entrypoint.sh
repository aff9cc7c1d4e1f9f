#!/bin/sh
# As a receiver host runs it: the rendered nginx.conf only once `nginx -t` accepted it, nginx in front of
# Gunicorn (which listens on the container's loopback), and the rendered receiver.env and secrets.env
# loaded as systemd would. Either program ending ends the container, so Docker restarts both.
set -eu
set -a
# shellcheck source=/dev/null
. /etc/webhook-receiver/receiver.env
# shellcheck source=/dev/null
. /etc/webhook-receiver/secrets.env
set +a
nginx -t -q -c /etc/receiver-tier/nginx.conf
runuser -u webhook-receiver -- /usr/bin/gunicorn -c /etc/webhook-receiver/gunicorn.conf.py &
gunicorn=$!
nginx -c /etc/receiver-tier/nginx.conf -g 'daemon off;' &
nginx=$!
# As PID 1 the shell ignores SIGTERM unless it traps it: `docker stop` stops both at once.
trap 'kill -TERM "$gunicorn" "$nginx" 2>/dev/null; wait; exit 0' TERM INT
while kill -0 "$gunicorn" 2>/dev/null && kill -0 "$nginx" 2>/dev/null; do
    sleep 1
done
kill -TERM "$gunicorn" "$nginx" 2>/dev/null || true
wait
exit 1
