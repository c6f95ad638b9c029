#!/usr/bin/env bash
# Applies Tokenmeter's topic definitions (config/topics.yaml) to any Kafka cluster, idempotently: creates missing
# topics, raises partition counts, sets topic configs that drifted, and reports (exit status 1) what cannot change
# in place. Uses Kafka's Admin client; builds the tools on first use (no install).
#
#   scripts/topics.sh --bootstrap-servers HOST:PORT [--file config/topics.yaml] [--command-config admin.properties]
#                     [--replication-factor N] [--dry-run] [--help]
set -euo pipefail
cd "$(dirname "$0")/.."

classpath_file=jobs/local/target/runtime-classpath.txt
if [[ ! -f "$classpath_file" || ! -d jobs/local/target/classes ]]; then
  echo "Building the Tokenmeter tools (the first build downloads dependencies)..." >&2
  build_log=$(mktemp)
  if ! mvn -B -q -Dstyle.color=never package -DskipTests -pl jobs/local -am > "$build_log" 2>&1; then
    cat "$build_log" >&2; rm -f "$build_log"; echo "Build failed." >&2; exit 1
  fi
  rm -f "$build_log"
fi
log_dir=jobs/local/target/topics
mkdir -p "$log_dir"
exec java -Dtokenmeter.log.dir="$log_dir" -cp "jobs/local/target/classes:$(cat "$classpath_file")" \
  io.tokenmeter.local.LocalCli topics "$@"
