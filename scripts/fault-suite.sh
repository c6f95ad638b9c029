#!/usr/bin/env bash
# The fault suite: I4 on a real multi-process Flink cluster. Builds the job jar and the tools (no install), starts a
# local session cluster (scripts/cluster.sh, a JobManager and two TaskManagers on free ports) and lets the suite
# start a Kafka broker process, then inflicts each fault on a fresh seeded workload and reconciles the billing
# with it: TaskManager kills, task failures and process deaths at each point of the checkpoint cycle, a broker
# outage, rescaling through savepoints, one checkpoint restored twice. Prints per fault the expected and observed
# totals; exits non-zero unless every fault reconciles. Run by .ci/run.
#
#   scripts/fault-suite.sh [--events N] [--accounts N] [--only fault1,fault2] [--help]
set -euo pipefail
cd "$(dirname "$0")/.."

echo "Building the job jar and the local tools..."
build_log=$(mktemp)
if ! mvn -B -q -Dstyle.color=never package -DskipTests -pl jobs/metering,jobs/local,jobs/cluster -am > "$build_log" 2>&1; then
  cat "$build_log"; rm -f "$build_log"; echo "Build failed." >&2; exit 1
fi
rm -f "$build_log"

work=jobs/local/target/fault-suite
export TOKENMETER_CLUSTER_DIR=$PWD/$work/cluster
scripts/cluster.sh stop > /dev/null 2>&1 || true
rm -rf "$work" && mkdir -p "$work/tmp"
trap 'scripts/cluster.sh stop' EXIT
# Prometheus reporters take the first free port of a range: one away from the default 9249-9259.
metrics_base=$((20000 + RANDOM % 20000))
scripts/cluster.sh start --rest-port 0 --taskmanagers 2 --slots 2 -D "metrics.reporter.prom.port=$metrics_base-$((metrics_base + 10))"

java -Xmx1g \
  -Dtokenmeter.log.dir="$work" \
  -Djava.io.tmpdir="$work/tmp" \
  -cp "jobs/local/target/classes:$(cat jobs/local/target/runtime-classpath.txt)" \
  io.tokenmeter.local.LocalCli faults --flink-address "$(cat "$TOKENMETER_CLUSTER_DIR/rest-address")" \
  --work-dir "$work/run" "$@"
