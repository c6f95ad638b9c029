#!/usr/bin/env bash
# Benchmarks Tokenmeter against its peers on one seeded workload: each contender runs in a fresh JVM of its own,
# back to back, so the machine's noise hits all of them (see docs/benchmarks.md).
#
#   scripts/bench.sh [--quick] [--events N] [--accounts N] [--dedup-horizon D] [--parallelism N] [--seed N]
#                    [--hot-account-share S] [--only metering,sql,loop,e2e] [--work-dir DIR] [--no-doc]
#   scripts/bench.sh --curves [--events N]     scaling curves: accounts 10^3..10^7, dedup horizon, parallelism 1..2
#
# Writes the table, the machine and the date into docs/benchmarks.md (between its generated markers) and ends with
# one line: BENCH events=... metering_eps=... sql_eps=... loop_eps=... e2e_eps=... vs_sql=... metering_cpu_eps=...
# Builds the benchmark when a source changed, then hands every option to BenchCli (jobs/bench), which runs the
# contenders, each in a JVM of its own, and the report; `scripts/bench.sh --help` lists the options.
set -euo pipefail
cd "$(dirname "$0")/.."

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
exec java -Xmx256m -cp "jobs/bench/target/classes:$(cat "$classpath_file")" io.tokenmeter.bench.BenchCli "$@"
