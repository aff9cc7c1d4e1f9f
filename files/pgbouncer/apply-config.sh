#!/bin/sh
# Brings the host's managed files in line with SSM Parameter Store, then applies them:
# PgBouncer reloads (connected clients stay) unless its listener changed, which only a restart
# applies; the monitor timer is re-read. Runs at boot and every minute (receiver-tier-config.timer),
# so a config change reaches running hosts without replacing them or needing the SSM agent.
# Each line of managed-files: <parameter> <path> <mode> <owner> <applies-to>.
# All parameters are fetched before any file changes: a failed read changes nothing.
set -eu
# The tests point these at a sandbox; on a host they are the defaults.
CONFIG_DIR=${RECEIVER_TIER_CONFIG_DIR:-/etc/receiver-tier}
PGBOUNCER_INI=${RECEIVER_TIER_PGBOUNCER_INI:-/etc/pgbouncer/pgbouncer.ini}
RETRY_DELAY=${RECEIVER_TIER_RETRY_DELAY:-6}
# shellcheck source=/dev/null
. "$CONFIG_DIR/pgbouncer-host.env"

fetch() {
    attempt=1
    # The instance role's policy may still be propagating right after launch.
    until aws ssm get-parameter --region "$AWS_REGION" --name "$1" --with-decryption \
        --query Parameter.Value --output text; do
        [ "$attempt" -ge 10 ] && return 1
        attempt=$((attempt + 1))
        sleep "$RETRY_DELAY"
    done
}

listener() {
    grep -E '^(listen_addr|listen_port|unix_socket_dir) ' "$PGBOUNCER_INI" 2>/dev/null || true
}

staged_list=$(mktemp)
trap 'while read -r staged _; do rm -f "$staged"; done <"$staged_list"; rm -f "$staged_list"' EXIT

while read -r parameter path mode owner applies_to; do
    [ -n "$parameter" ] || continue
    content=$(fetch "$parameter")
    staged=$(mktemp "$path.XXXXXX")
    echo "$staged $path $applies_to" >>"$staged_list"
    # Command substitution drops trailing newlines; the rendered files end in exactly one.
    printf '%s\n' "$content" >"$staged"
    chown "$owner" "$staged"
    chmod "$mode" "$staged"
done <"$CONFIG_DIR/managed-files"

listener_before=$(listener)
changed=""
while read -r staged path applies_to; do
    if cmp -s "$staged" "$path"; then
        continue
    fi
    mv "$staged" "$path"
    logger -t receiver-tier-config "updated $path"
    changed="$changed $applies_to"
done <"$staged_list"

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
