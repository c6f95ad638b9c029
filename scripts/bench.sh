#!/usr/bin/env bash
# Benchmarks Tokenmeter against its peers on one seeded workload: each contender runs in a fresh JVM of its own,
# back to back, so the machine's noise hits all of them (see docs/benchmarks.md).
#
#   scripts/bench.sh [--quick] [--events N] [--accounts N] [--dedup-horizon D] [--parallelism N] [--seed N]
#                    [--only metering,sql,loop,e2e] [--work-dir DIR] [--no-doc]
#   scripts/bench.sh --curves [--events N]     scaling curves: accounts 10^3..10^7, dedup horizon, parallelism 1..2
#
# Writes the table, the machine and the date into docs/benchmarks.md (between its generated markers) and ends with
# one line: BENCH events=... metering_eps=... sql_eps=... loop_eps=... e2e_eps=... vs_sql=... metering_cpu_eps=...
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }

events=
accounts=1000000
horizon="24 h"
parallelism=2
seed=42
only="metering,sql,loop,e2e"
work_dir=jobs/bench/target/bench-run
curves=false
write_doc=true
command_line="scripts/bench.sh${*:+ $*}"
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
    --curves) curves=true; work_dir=jobs/bench/target/bench-curves; shift ;;
    --no-doc) write_doc=false; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

if [[ -z "$events" ]]; then
  if $curves; then events=200000; else events=10000000; fi
fi

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
work_dir=$(cd "$work_dir" && pwd)

run() { # contender heap args...
  local name=$1 heap=$2; shift 2
  java "-Xmx$heap" -Dtokenmeter.log.dir="$work_dir/logs" -Djava.io.tmpdir="$work_dir/tmp" \
    -cp "$classpath" io.tokenmeter.bench.BenchCli "$name" "$@"
}
# The loop holds the whole workload in memory (~1 GB at 10M records) and every live dedup id: millions in a full run.
heap() { case "$1" in loop) echo 6g ;; *) echo 2g ;; esac; }

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cores (nproc): $(nproc)"
  lscpu | grep -E '^(Model name|Architecture|CPU\(s\)|Thread|Core|Socket|CPU max MHz|L2|L3)' || true
  free -h | sed -n '1,2p'
  echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
  java -version 2>&1 | head -3
} > "$work_dir/machine.txt"

if $curves; then
  # Each point: the metering job (throughput, state on disk) and the loop (exact state entry counts).
  point() { # name args...
    local name=$1; shift
    echo "== curve point $name"
    for c in metering loop; do
      # Checkpoints every second: the largest one then catches the state near its peak.
      run "$c" "$(heap $c)" --events "$events" --seed "$seed" --set "checkpoints.interval=1 s" \
        --work-dir "$work_dir/$name" "$@" | grep -E '^(RESULT|MISMATCH)' || { echo "$c failed at $name" >&2; exit 1; }
    done
  }
  for a in 1000 10000 100000 1000000 10000000; do
    point "accounts-$a" --accounts "$a" --dedup-horizon "$horizon" --parallelism "$parallelism"
  done
  for h in 1h 6h 12h; do
    point "horizon-$h" --accounts 100000 --dedup-horizon "$h" --parallelism "$parallelism"
  done
  point "horizon-24h" --accounts 100000 --dedup-horizon 24h --parallelism "$parallelism"
  point "parallelism-1" --accounts 100000 --dedup-horizon "$horizon" --parallelism 1
  point "parallelism-2" --accounts 100000 --dedup-horizon "$horizon" --parallelism 2
  doc_args=(); $write_doc && doc_args=(--doc docs/benchmarks.md)
  run curves 1g --work-dir "$work_dir" --command "$command_line" "${doc_args[@]}"
  exit 0
fi

common=(--events "$events" --accounts "$accounts" --dedup-horizon "$horizon" --parallelism "$parallelism"
        --seed "$seed" --work-dir "$work_dir")
IFS=',' read -r -a selected <<< "$only"
for name in "${selected[@]}"; do
  case "$name" in
    metering|sql|loop|e2e) ;;
    *) echo "bench.sh: unknown contender '$name' (metering, sql, loop, e2e)" >&2; exit 2 ;;
  esac
done
for name in "${selected[@]}"; do
  echo "== $name"
  # A failed contender is reported and the others still run; the report then names what is missing.
  run "$name" "$(heap "$name")" "${common[@]}" || echo "bench.sh: contender $name failed" >&2
done

echo "== report"
doc_args=(); $write_doc && doc_args=(--doc docs/benchmarks.md)
run report 512m --work-dir "$work_dir" --machine "$work_dir/machine.txt" --command "$command_line" \
  --contenders "$only" "${doc_args[@]}"
