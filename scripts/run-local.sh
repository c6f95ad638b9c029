#!/usr/bin/env bash
# Runs Tokenmeter end to end on this machine: builds what it needs, starts a real Kafka broker (KRaft, loopback),
# produces a seeded workload, runs the metering job on a local Flink MiniCluster with RocksDB state and prints a
# reconciliation of the billing against the workload. Exits non-zero when the billing does not reconcile.
#
#   scripts/run-local.sh [--events N] [--accounts N] [--duplicate-rate R] [--late-rate R] [--malformed-rate R]
#                        [--seed N] [--parallelism N] [--web-port P] [--help]
set -euo pipefail
cd "$(dirname "$0")/.."

classpath_file=jobs/local/target/runtime-classpath.txt
if [[ ! -f "$classpath_file" || -n "$(find schemas jobs pom.xml -newer "$classpath_file" \
        \( -name '*.java' -o -name '*.avsc' -o -name 'pom.xml' -o -name '*.properties' \) -print -quit)" ]]; then
  echo "Building Tokenmeter (first build downloads dependencies, about 2 minutes)..."
  mvn -B -q install -DskipTests
fi

work_dir=jobs/local/target/local-run
rm -rf "$work_dir" && mkdir -p "$work_dir/tmp"
exec java -Xmx3g \
  -Dtokenmeter.log.dir="$work_dir" \
  -Djava.io.tmpdir="$work_dir/tmp" \
  -cp "jobs/local/target/classes:$(cat "$classpath_file")" \
  io.tokenmeter.local.LocalCli run --work-dir "$work_dir" "$@"
