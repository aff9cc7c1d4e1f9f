#!/bin/sh
# Brings the host's managed files in line with SSM Parameter Store, then applies them:
# PgBouncer reloads (connected clients stay) unless its listener changed, which only a restart
# applies; the monitor timer is re-read. Runs at boot and every minute (receiver-tier-config.timer),
# so a config change reaches running hosts without replacing them or needing the SSM agent.
# Each line of /etc/receiver-tier/managed-files: <parameter> <path> <mode> <owner> <applies-to>.
set -eu
# shellcheck source=/dev/null
. /etc/receiver-tier/pgbouncer-host.env

fetch() {
    attempt=1
    # The instance role's policy may still be propagating right after launch.
    until aws ssm get-parameter --region "$AWS_REGION" --name "$1" --with-decryption \
        --query Parameter.Value --output text; do
        [ "$attempt" -ge 10 ] && return 1
        attempt=$((attempt + 1))
        sleep 6
    done
}

listener() {
    grep -E '^(listen_addr|listen_port|unix_socket_dir) ' /etc/pgbouncer/pgbouncer.ini 2>/dev/null || true
}

listener_before=$(listener)
changed=""
while read -r parameter path mode owner applies_to; do
    [ -n "$parameter" ] || continue
    content=$(fetch "$parameter")
    staged=$(mktemp "$path.XXXXXX")
    # Command substitution drops trailing newlines; the rendered files end in exactly one.
    printf '%s\n' "$content" >"$staged"
    if cmp -s "$staged" "$path"; then
        rm -f "$staged"
        continue
    fi
    chown "$owner" "$staged"
    chmod "$mode" "$staged"
    mv "$staged" "$path"
    logger -t receiver-tier-config "updated $path from $parameter"
    changed="$changed $applies_to"
done </etc/receiver-tier/managed-files

case "$changed" in *timer*)
    systemctl daemon-reload
    systemctl restart receiver-long-query-monitor.timer
    ;;
esac
case "$changed" in *pgbouncer*)
    if [ "$(listener)" != "$listener_before" ] || ! systemctl is-active --quiet pgbouncer; then
        systemctl restart pgbouncer
    else
        systemctl reload pgbouncer
    fi
    ;;
esac
