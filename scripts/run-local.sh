#!/usr/bin/env bash
# Runs Tokenmeter end to end on this machine: builds what it needs, starts a real Kafka broker (KRaft, loopback),
# produces a seeded workload, runs the metering job on a local Flink MiniCluster with RocksDB state and prints a
# reconciliation of the billing against the workload. With token packages on (config/metering-local.yaml), it also
# writes seeded subscriptions first and ends the summary with the notices sent, by threshold, and their p99 latency
# (docs/packages.md). Exits non-zero when the billing does not reconcile or a notice was repeated.
#
#   scripts/run-local.sh [--events N] [--accounts N] [--duplicate-rate R] [--late-rate R] [--malformed-rate R]
#                        [--seed N] [--parallelism N] [--web-port P] [--linger SECONDS] [--postgres JDBC_URL]
#                        [--secure] [--help]
#
# --secure runs against a secured broker: TLS with a throwaway CA, the job as SCRAM-SHA-512 user "metering" over
# SASL_SSL with only its ACLs (StandardAuthorizer), its secrets referenced through Kafka's FileConfigProvider, the
# tools as an admin client certificate over mTLS (docs/operations.md, "Secured Kafka").
# --postgres also upserts billing records, daily account usage and the rollups into that PostgreSQL database
# (tables from config/sql/postgres/warehouse.sql, created if missing) and checks them against the billing topic.
# --linger keeps the broker up after the summary, e.g. for scripts/sql.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

classpath_file=jobs/local/target/runtime-classpath.txt
built_stamp=jobs/local/target/.built
# Build when there is no build yet or a source is newer than the last one.
if [[ ! -f "$classpath_file" || ! -f "$built_stamp" || -n "$(find schemas jobs pom.xml -name target -prune -o -newer "$built_stamp" \
        \( -name '*.java' -o -name '*.avsc' -o -name 'pom.xml' -o -name '*.properties' \) -print -quit)" ]]; then
  echo "Building Tokenmeter (the first build downloads dependencies, about 2 minutes)..."
  build_log=$(mktemp)
  if ! mvn -B -q -Dstyle.color=never install -DskipTests > "$build_log" 2>&1; then
    cat "$build_log"; rm -f "$build_log"; echo "Build failed." >&2; exit 1
  fi
  rm -f "$build_log"
  touch "$built_stamp"
fi

work_dir=jobs/local/target/local-run
rm -rf "$work_dir" && mkdir -p "$work_dir/tmp"
exec java -Xmx3g \
  -Dtokenmeter.log.dir="$work_dir" \
  -Djava.io.tmpdir="$work_dir/tmp" \
  -cp "jobs/local/target/classes:$(cat "$classpath_file")" \
  io.tokenmeter.local.LocalCli run --work-dir "$work_dir" "$@"
