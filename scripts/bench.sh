#!/usr/bin/env bash
# Benchmarks Tokenmeter against its peers on one seeded workload: each contender runs in a fresh JVM of its own,
# back to back, so the machine's noise hits all of them (see docs/benchmarks.md).
#
#   scripts/bench.sh [--quick] [--events N] [--accounts N] [--dedup-horizon D] [--parallelism N] [--seed N]
#                    [--only metering,sql,loop,e2e] [--work-dir DIR] [--help]
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; }

events=10000000
accounts=1000000
horizon="24 h"
parallelism=2
seed=42
only="metering,sql,loop,e2e"
work_dir=jobs/bench/target/bench-run
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) events=1000000; shift ;;
    --events) events="$2"; shift 2 ;;
    --accounts) accounts="$2"; shift 2 ;;
    --dedup-horizon) horizon="$2"; shift 2 ;;
    --parallelism) parallelism="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --work-dir) work_dir="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

classpath_file=jobs/bench/target/runtime-classpath.txt
built_stamp=jobs/bench/target/.built
# Build when there is no build yet or a source is newer than the last one. Built in the reactor: nothing is
# installed into the local Maven repository.
if [[ ! -f "$classpath_file" || ! -f "$built_stamp" || -n "$(find schemas jobs pom.xml -name target -prune -o -newer "$built_stamp" \
        \( -name '*.java' -o -name '*.avsc' -o -name 'pom.xml' -o -name '*.properties' \) -print -quit)" ]]; then
  echo "Building the benchmark (the first build downloads dependencies, a few minutes)..."
  build_log=$(mktemp)
  if ! mvn -B -q -Dstyle.color=never -pl jobs/bench -am package -DskipTests > "$build_log" 2>&1; then
    cat "$build_log"; rm -f "$build_log"; echo "Build failed." >&2; exit 1
  fi
  rm -f "$build_log"
  touch "$built_stamp"
fi
classpath="jobs/bench/target/classes:$(cat "$classpath_file")"

rm -rf "$work_dir" && mkdir -p "$work_dir/tmp"
common=(--events "$events" --accounts "$accounts" --dedup-horizon "$horizon" --parallelism "$parallelism"
        --seed "$seed" --work-dir "$work_dir")

contender() {
  local name=$1 heap=$2
  echo "== $name"
  java "-Xmx$heap" -Dtokenmeter.log.dir="$work_dir/$name-log" -Djava.io.tmpdir="$work_dir/tmp" \
    -cp "$classpath" io.tokenmeter.bench.BenchCli "$name" "${common[@]}"
}

IFS=',' read -r -a selected <<< "$only"
for name in "${selected[@]}"; do
  case "$name" in
    metering|sql) contender "$name" 2g ;;
    loop) contender loop 3g ;;
    e2e) contender e2e 2g ;;
    *) echo "bench.sh: unknown contender '$name' (metering, sql, loop, e2e)" >&2; exit 2 ;;
  esac
done
