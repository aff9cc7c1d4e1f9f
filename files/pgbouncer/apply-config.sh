#!/bin/sh
# Brings the host's managed files in line with SSM Parameter Store, then applies them:
# PgBouncer reloads (connected clients stay) unless its listener changed, which only a restart
# applies; the monitor timer is re-read. Runs at boot and on receiver-tier-config.timer, whose
# fixed per-host offset staggers the hosts, so a config change reaches running hosts one by one
# without replacing them or needing the SSM agent.
# Each line of managed-files: <parameter> <path> <mode> <owner> <applies-to>.
# All parameters are fetched before any file changes: a failed read changes nothing.
# A changed pgbouncer.ini lands only after PgBouncer itself accepted it: a throwaway pgbouncer, run
# as the service account on a temporary port and socket directory, starts on the staged file and is
# stopped right after (PgBouncer has no dry-run flag). A rejected file changes nothing on this host,
# is logged with PgBouncer's own error and fails this run; the next poll tries again. The check reads
# the files the new ini names (TLS certificates and keys) in their staged versions.
# Every replaced file is kept as <path>.last-good. Each run's outcome is a metric (ConfigApplyFailed).
set -eu
# The tests point these at a sandbox; on a host they are the defaults.
CONFIG_DIR=${RECEIVER_TIER_CONFIG_DIR:-/etc/receiver-tier}
PGBOUNCER_INI=${RECEIVER_TIER_PGBOUNCER_INI:-/etc/pgbouncer/pgbouncer.ini}
PGBOUNCER_BIN=${RECEIVER_TIER_PGBOUNCER_BIN:-/usr/sbin/pgbouncer}
PGBOUNCER_USER=${RECEIVER_TIER_PGBOUNCER_USER:-postgres}
RETRY_DELAY=${RECEIVER_TIER_RETRY_DELAY:-6}
CHECK_SECONDS=${RECEIVER_TIER_CHECK_SECONDS:-10}
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

# The file under <path> after this run: the staged copy when there is one.
staged_or_live() {
    while read -r staged path _; do
        if [ "$path" = "$1" ]; then
            echo "$staged"
            return
        fi
    done <"$staged_list"
    echo "$1"
}

# Starts PgBouncer on a copy of <ini> whose listener, socket, pid, log and auth files point into a
# private directory; succeeds once it listens. Prints PgBouncer's own output when it refuses.
pgbouncer_accepts() {
    ini=$1
    userlist=$2
    for _ in 1 2 3; do
        dir=$(mktemp -d)
        echo "$dir" >>"$check_dirs"
        port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
        awk -v dir="$dir" -v port="$port" '
            /^[ \t]*(listen_addr|listen_port|unix_socket_dir|pidfile|logfile|auth_file|user)[ \t]*=/ { print ";" $0; next }
            { print }
            /^[ \t]*\[pgbouncer\][ \t]*$/ {
                print "listen_addr = 127.0.0.1"; print "listen_port = " port; print "unix_socket_dir = " dir
                print "pidfile = " dir "/pgbouncer.pid"; print "logfile = " dir "/pgbouncer.log"; print "auth_file = " dir "/userlist.txt"
            }' "$ini" >"$dir/pgbouncer.ini"
        # Files the new ini names (certificates, keys) are checked in their new, staged version.
        while read -r staged path _; do
            sed -i "s|^\([ \t]*[a-z_]*_file[ \t]*=[ \t]*\)${path}[ \t]*\$|\1${staged}|" "$dir/pgbouncer.ini"
        done <"$staged_list"
        cp "$userlist" "$dir/userlist.txt" 2>/dev/null || : >"$dir/userlist.txt"
        if [ "$(id -u)" = 0 ]; then
            chown -R "$PGBOUNCER_USER" "$dir"
            # setpriv execs PgBouncer itself, so $! is PgBouncer's PID.
            setpriv --reuid="$PGBOUNCER_USER" --regid="$PGBOUNCER_USER" --init-groups -- \
                "$PGBOUNCER_BIN" "$dir/pgbouncer.ini" >"$dir/output" 2>&1 &
        else
            "$PGBOUNCER_BIN" "$dir/pgbouncer.ini" >"$dir/output" 2>&1 &
        fi
        pid=$!
        waited=0
        while kill -0 "$pid" 2>/dev/null && [ ! -S "$dir/.s.PGSQL.$port" ] && [ "$waited" -lt "$((CHECK_SECONDS * 10))" ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        if [ -S "$dir/.s.PGSQL.$port" ] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            wait "$pid" || true
            return 0
        fi
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" || true
        # A port taken between picking and binding says nothing about the file: try another.
        grep -q 'Address already in use' "$dir/output" "$dir/pgbouncer.log" 2>/dev/null || break
    done
    cat "$dir/output" "$dir/pgbouncer.log" 2>/dev/null | grep -v '^$' | tail -n 5
    return 1
}

staged_list=$(mktemp)
check_dirs=$(mktemp)
# Every run ends by reporting whether it applied (0) or failed (1): the ConfigApplyFailed alarm.
finish() {
    status=$?
    while read -r staged _; do rm -f "$staged"; done <"$staged_list"
    while read -r dir; do rm -rf "$dir"; done <"$check_dirs"
    rm -f "$staged_list" "$check_dirs"
    receiver-tier-put-metric ConfigApplyFailed "$([ "$status" = 0 ] && echo 0 || echo 1)" Count ||
        logger -t receiver-tier-config "could not publish ConfigApplyFailed"
    exit "$status"
}
trap finish EXIT

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

new_ini=$(staged_or_live "$PGBOUNCER_INI")
if ! cmp -s "$new_ini" "$PGBOUNCER_INI"; then
    userlist=$(staged_or_live "$(awk -F '[ \t]*=[ \t]*' '/^[ \t]*auth_file[ \t]*=/ { print $2 }' "$new_ini")")
    if ! refusal=$(pgbouncer_accepts "$new_ini" "$userlist"); then
        message=$(printf 'pgbouncer refused the new %s; nothing changed on this host:\n%s' "$PGBOUNCER_INI" "$refusal")
        printf '%s\n' "$message" >&2
        printf '%s\n' "$message" | logger -t receiver-tier-config -p user.err
        exit 1
    fi
fi

listener_before=$(listener)
changed=""
while read -r staged path applies_to; do
    if cmp -s "$staged" "$path"; then
        continue
    fi
    [ -f "$path" ] && cp -p "$path" "$path.last-good"
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
