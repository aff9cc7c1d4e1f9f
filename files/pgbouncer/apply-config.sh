#!/bin/sh
# Writes pgbouncer.ini and userlist.txt from SSM Parameter Store and reloads PgBouncer.
# Run at boot by cloud-init and on every config change by the stack's SSM association,
# so a setting change reaches a running host by RELOAD: connected clients stay connected.
set -eu
# shellcheck source=/dev/null
. /etc/receiver-tier/pgbouncer-host.env

fetch() {
    aws ssm get-parameter --region "$AWS_REGION" --name "$1" --with-decryption \
        --query Parameter.Value --output text
}

write_file() {
    target=$1 mode=$2 content=$3
    tmp=$(mktemp "$target.XXXXXX")
    printf '%s\n' "$content" >"$tmp"
    chown postgres:postgres "$tmp"
    chmod "$mode" "$tmp"
    mv "$tmp" "$target"
}

ini=$(fetch "$INI_PARAMETER")
userlist=$(fetch "$USERLIST_PARAMETER")
write_file /etc/pgbouncer/userlist.txt 0600 "$userlist"
write_file /etc/pgbouncer/pgbouncer.ini 0640 "$ini"

if systemctl is-active --quiet pgbouncer; then
    systemctl reload pgbouncer
else
    systemctl restart pgbouncer
fi
