#!/usr/bin/env bash
# Opens an interactive Flink SQL client session with every Tokenmeter output topic registered as a table
# (config/sql/*.sql): account_usage (+ views account_hourly_usage, account_daily_usage), regional_usage,
# national_usage, billing_records (+ view billing_line_items), rejected_records, package_notices and ledger.
# Queries run in batch mode over everything committed so far; docs/analytics.md is a cookbook of queries.
#
#   scripts/sql.sh [--bootstrap-servers HOST:PORT] [--set KEY=VALUE]... [SQL CLIENT OPTIONS, e.g. -f queries.sql]
#
# Without --bootstrap-servers it connects to the broker of a running scripts/run-local.sh (use its --linger), else
# to localhost:9092. --set changes a topic name or the time zone, with the keys of config/metering.yaml:
# kafka.topics.billing, kafka.topics.account-usage, kafka.topics.regional-usage, kafka.topics.national-usage,
# kafka.topics.rejected, kafka.topics.notices, kafka.topics.ledger, billing.time-zone, and schema-registry.url
# (the registry of topics the job writes in the registry framing; empty: none).
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A values=(
  [kafka.bootstrap-servers]=""
  [kafka.topics.billing]=tokenmeter.billing.records
  [kafka.topics.rejected]=tokenmeter.usage.rejected
  [kafka.topics.account-usage]=tokenmeter.usage.account
  [kafka.topics.regional-usage]=tokenmeter.usage.regional
  [kafka.topics.national-usage]=tokenmeter.usage.national
  [kafka.topics.notices]=tokenmeter.package.notices
  [kafka.topics.ledger]=tokenmeter.metering.ledger
  [billing.time-zone]=Asia/Shanghai
  [schema-registry.url]=""
)
client_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bootstrap-servers) values[kafka.bootstrap-servers]="$2"; shift 2 ;;
    --set)
      key="${2%%=*}"
      if [[ "$2" != *=* || -z "${values[$key]+known}" ]]; then
        echo "--set $2: expected KEY=VALUE with KEY one of: ${!values[*]}" >&2; exit 2
      fi
      values[$key]="${2#*=}"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) client_args+=("$1"); shift ;;
  esac
done
local_run_broker=jobs/local/target/local-run/bootstrap-servers
if [[ -z "${values[kafka.bootstrap-servers]}" ]]; then
  if [[ -f "$local_run_broker" ]]; then
    values[kafka.bootstrap-servers]="$(cat "$local_run_broker")"
  else
    values[kafka.bootstrap-servers]=localhost:9092
  fi
fi

classpath_file=jobs/sql/target/runtime-classpath.txt
format_jar=jobs/sql/target/tokenmeter-sql-0.1.0-SNAPSHOT-format.jar
if [[ ! -f "$classpath_file" || ! -f "$format_jar" || -n "$(find schemas jobs/sql pom.xml -name target -prune -o \
        -newer "$format_jar" \( -name '*.java' -o -name '*.avsc' -o -name 'pom.xml' \) -print -quit)" ]]; then
  echo "Building the Tokenmeter SQL format..." >&2
  build_log=$(mktemp)
  if ! mvn -B -q -Dstyle.color=never -pl jobs/sql -am package -DskipTests > "$build_log" 2>&1; then
    cat "$build_log" >&2; rm -f "$build_log"; echo "Build failed." >&2; exit 1
  fi
  rm -f "$build_log"
fi

session_dir=jobs/sql/target/sql-session
rm -rf "$session_dir" && mkdir -p "$session_dir/conf" "$session_dir/tmp"
cp config/sql/sql-client-config.yaml "$session_dir/conf/config.yaml"
# The table definitions, with their ${key} placeholders filled in.
init="$session_dir/init.sql"
cat config/sql/*.sql > "$init"
for key in "${!values[@]}"; do
  value="${values[$key]//\\/\\\\}"
  value="${value//|/\\|}"
  value="${value//&/\\&}"
  sed -i "s|\${$key}|$value|g" "$init"
done
if grep -n '\${' "$init" >&2; then
  echo "Unfilled placeholder in config/sql (above)." >&2; exit 1
fi
echo "Tables over Kafka at ${values[kafka.bootstrap-servers]}: account_usage, account_hourly_usage," \
  "account_daily_usage, regional_usage, national_usage, billing_records, billing_line_items, rejected_records" >&2

export FLINK_CONF_DIR="$PWD/$session_dir/conf"
exec java -Xmx2g -Djava.io.tmpdir="$session_dir/tmp" \
  -cp "$format_jar:$(cat "$classpath_file")" \
  org.apache.flink.table.client.SqlClient embedded -i "$init" "${client_args[@]}"
