#!/bin/sh
# The runbook's long-running-query check: logs every offender to the journal
# (tag receiver-long-query), publishes their number (LongRunningQueries) and exits non-zero when
# there is one, so the unit shows failed.
set -eu
# shellcheck source=/dev/null
. /etc/receiver-tier/monitor.env

PGPASSWORD=$(aws ssm get-parameter --region "$AWS_REGION" --name "$MONITOR_PASSWORD_PARAMETER" \
    --with-decryption --query Parameter.Value --output text)
export PGPASSWORD PGHOST PGPORT PGDATABASE PGUSER PGSSLMODE PGSSLROOTCERT

offenders=$(psql -X -q -A -t -F ' | ' -v ON_ERROR_STOP=1 -f /etc/receiver-tier/monitor.sql)
count=$(printf '%s' "$offenders" | grep -c . || true)
receiver-tier-put-metric LongRunningQueries "$count" Count || logger -t receiver-long-query "could not publish LongRunningQueries"
if [ -n "$offenders" ]; then
    printf '%s\n' "$offenders" | logger -t receiver-long-query -p user.warning
    exit 1
fi
logger -t receiver-long-query -p user.info "no queries older than the threshold"
