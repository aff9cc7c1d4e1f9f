#!/bin/sh
# Puts nginx in front of Gunicorn: the rendered nginx.conf (staged by user data) replaces the package's
# only once nginx itself accepted it, then nginx (re)starts; its unit orders it after webhook-receiver.
# Run by cloud-init at boot, after receiver-tier-install-receiver started Gunicorn.
set -eu
staged=/etc/receiver-tier/nginx.conf
if ! nginx -t -q -c "$staged"; then
    echo "receiver-tier-install-proxy: nginx refused $staged; the receiver stays out of service" >&2
    exit 1
fi
install -m 0644 -o root -g root "$staged" /etc/nginx/nginx.conf
systemctl daemon-reload
systemctl enable nginx.service
systemctl restart nginx.service
