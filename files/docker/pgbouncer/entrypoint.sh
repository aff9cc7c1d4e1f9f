#!/bin/sh
# The stack uploads the rendered files to /etc/receiver-tier (as root); PgBouncer refuses to
# run as root, so install them for the postgres user with the host's modes and drop privileges.
set -eu
install -o postgres -g postgres -m 0640 /etc/receiver-tier/pgbouncer.ini /etc/pgbouncer/pgbouncer.ini
install -o postgres -g postgres -m 0600 /etc/receiver-tier/userlist.txt /etc/pgbouncer/userlist.txt
install -d -o postgres -g postgres /var/run/postgresql /var/log/postgresql
exec runuser -u postgres -- pgbouncer /etc/pgbouncer/pgbouncer.ini
