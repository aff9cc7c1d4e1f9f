#!/usr/bin/python3
"""PgBouncer pool metrics for CloudWatch, every minute (receiver-tier-metrics.timer).

Reads SHOW POOLS and SHOW STATS on the local PgBouncer's console as the active stats login and
publishes one value per metric and database: every user of a database summed (maximum for wait
times), so the series survive a login rotation. Each value goes out twice: with the Host dimension,
and with Database alone for the fleet-wide alarms. The console database itself is left out.

  pgbouncer-metrics                          collect and publish (settings from the environment)
  pgbouncer-metrics --parse POOLS STATS HOST  print the metric data for captured `psql -A` output
"""
import json
import os
import subprocess
import sys

# SHOW POOLS: name -> (unit, how the users of a database combine, value of one row).
POOL_METRICS = {
    "ClientsActive": ("Count", sum, lambda r: int(r["cl_active"])),
    "ClientsWaiting": ("Count", sum, lambda r: int(r["cl_waiting"])),
    "ServersActive": ("Count", sum, lambda r: int(r["sv_active"])),
    "ServersIdle": ("Count", sum, lambda r: int(r["sv_idle"])),
    "ServerConnections": (
        "Count",
        sum,
        lambda r: sum(int(r[k]) for k in ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login")),
    ),
    "MaxWaitSeconds": ("Seconds", max, lambda r: int(r["maxwait"]) + int(r.get("maxwait_us") or 0) / 1e6),
}
# SHOW STATS (one row per database; averages over PgBouncer's stats_period, times in microseconds).
STATS_METRICS = {
    "TransactionsPerSecond": ("Count/Second", lambda r: int(r["avg_xact_count"])),
    "QueriesPerSecond": ("Count/Second", lambda r: int(r["avg_query_count"])),
    "AvgTransactionTimeMs": ("Milliseconds", lambda r: int(r["avg_xact_time"]) / 1000),
    "AvgQueryTimeMs": ("Milliseconds", lambda r: int(r["avg_query_time"]) / 1000),
    "AvgWaitTimeMs": ("Milliseconds", lambda r: int(r["avg_wait_time"]) / 1000),
}
CONSOLE = "pgbouncer"


def rows(text):
    """Rows of `psql -A -F '|' -P footer=off` output as dicts."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = lines[0].split("|")
    return [dict(zip(header, line.split("|"))) for line in lines[1:]]


def metric_data(pools_text, stats_text, host):
    """CloudWatch MetricData for one collection: a pure function of the console's output."""
    data = []

    def emit(name, unit, database, value):
        for dimensions in ([("Database", database), ("Host", host)], [("Database", database)]):
            data.append(
                {
                    "MetricName": name,
                    "Unit": unit,
                    "Value": value,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions],
                }
            )

    pools = [r for r in rows(pools_text) if r["database"] != CONSOLE]
    for database in sorted({r["database"] for r in pools}):
        of_database = [r for r in pools if r["database"] == database]
        for name, (unit, combine, value) in POOL_METRICS.items():
            emit(name, unit, database, combine(value(r) for r in of_database))
    for row in rows(stats_text):
        if row["database"] == CONSOLE:
            continue
        for name, (unit, value) in STATS_METRICS.items():
            emit(name, unit, row["database"], value(row))
    return data


def console(query):
    return subprocess.run(
        ["psql", "-X", "-A", "-F", "|", "-P", "footer=off", "-v", "ON_ERROR_STOP=1", "-d", "pgbouncer", "-c", query],
        check=True,
        capture_output=True,
        text=True,
        env=dict(os.environ, PGUSER=os.environ["STATS_USER"], PGPASSWORD=os.environ["STATS_PASSWORD"]),
    ).stdout


def publish(data):
    # PutMetricData takes at most 1000 values per call.
    for start in range(0, len(data), 1000):
        subprocess.run(
            [
                "aws", "cloudwatch", "put-metric-data", "--region", os.environ["AWS_REGION"],
                "--namespace", os.environ["METRICS_NAMESPACE"],
                "--metric-data", json.dumps(data[start:start + 1000]),
            ],
            check=True,
        )


def main(argv):
    if len(argv) == 5 and argv[1] == "--parse":
        with open(argv[2]) as pools, open(argv[3]) as stats:
            json.dump(metric_data(pools.read(), stats.read(), argv[4]), sys.stdout, indent=1)
        return 0
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    publish(metric_data(console("SHOW POOLS"), console("SHOW STATS"), os.environ["HOST_ID"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
