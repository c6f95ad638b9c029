#!/usr/bin/env bash
# A Flink 2.x session cluster for Tokenmeter: starts a real standalone cluster on loopback from Maven artifacts
# (a JobManager and TaskManagers as separate JVMs, web UI and REST API), and drives any Flink 2.x cluster through
# its REST API: submit the job jar, list, cancel, stop with a savepoint, resume from one at another parallelism.
# The REST commands run in Java (FlinkCluster in jobs/local, built on first use). Run `scripts/cluster.sh help` for
# the commands; docs/operations.md shows them in use.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

usage() {
  cat <<'USAGE'
Usage: scripts/cluster.sh COMMAND [OPTIONS]

Local cluster (this machine, loopback):
  start [--rest-port P] [--taskmanagers N] [--slots N] [-D key=value]...
                        start a JobManager and N TaskManagers (default 2, 2 slots each) with config/flink/config.yaml;
                        --rest-port 0 picks a free port (default 8081); -D overrides any Flink setting
  stop                  stop every process of the local cluster
  taskmanager start I   start TaskManager number I (again), e.g. after it was lost
  taskmanager kill I    kill TaskManager number I with SIGKILL (a crash, for drills)
  taskmanager pid I     print the process id of TaskManager number I

Any Flink 2.x cluster (--address HOST:PORT, else $FLINK_REST_ADDRESS, else the local cluster, else localhost:8081):
  status                            TaskManagers, slots and jobs
  submit [--jar JAR] [--parallelism N] [--from-savepoint PATH] [--allow-non-restored-state] [-- JOB ARGS...]
                                    upload the job jar (default jobs/metering/target/tokenmeter-metering-*-job.jar)
                                    and run it; prints the job id. JOB ARGS go to the job, e.g.
                                    -- --config config/metering.yaml --set kafka.bootstrap-servers=broker:9092
  resume PATH --parallelism N [-- JOB ARGS...]
                                    submit from a savepoint or retained checkpoint at another parallelism
  list                              jobs with their state
  cancel JOB_ID                     cancel a job (its last checkpoints are retained)
  stop-with-savepoint JOB_ID [--savepoint-dir DIR] [--drain]
                                    take a savepoint and stop the job; prints the savepoint path. --drain ends
                                    event time first (closes every open hour and day): for the end of an input,
                                    never before a restore (a restored job would reject everything as TOO_LATE)
  checkpoint JOB_ID                 path of the job's latest completed checkpoint, for a restore
USAGE
}

die() { echo "cluster.sh: $*" >&2; exit 1; }
info() { echo "$@" >&2; }

cluster_dir=${TOKENMETER_CLUSTER_DIR:-$root/jobs/cluster/target/cluster}
classpath_file=$root/jobs/cluster/target/cluster-classpath.txt

address=""  # --address; FlinkCluster falls back to $FLINK_REST_ADDRESS, the local cluster, localhost:8081

# ---- REST: FlinkCluster (jobs/local) ----------------------------------------------------------------------------

tools_classpath=$root/jobs/local/target/runtime-classpath.txt

# flink_rest COMMAND [ARGS...]: the REST command in Java, on any Flink 2.x cluster.
flink_rest() {
  if [[ ! -f "$tools_classpath" || ! -d "$root/jobs/local/target/classes" ]]; then
    info "Building the Tokenmeter tools (the first build downloads dependencies)..."
    (cd "$root" && mvn -B -q -Dstyle.color=never package -DskipTests -pl jobs/local -am) >&2 || die "could not build the tools"
  fi
  java -Xmx256m -cp "$root/jobs/local/target/classes:$(< "$tools_classpath")" io.tokenmeter.local.LocalCli cluster \
    --root "$root" --cluster-dir "$cluster_dir" ${address:+--address "$address"} "$@"
}

# ---- Local cluster ---------------------------------------------------------------------------------------------

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

alive() { [[ -f "$1" ]] && kill -0 "$(< "$1")" 2> /dev/null; }

ensure_classpath() {
  if [[ ! -f "$classpath_file" ]]; then
    info "Resolving the Flink $(sed -n 's:.*<flink.version>\(.*\)</flink.version>.*:\1:p' "$root/pom.xml") cluster classpath from Maven..."
    (cd "$root" && mvn -B -q -Dstyle.color=never package -pl jobs/cluster) >&2 || die "could not resolve the cluster classpath"
  fi
}

# What Flink's own scripts derive from the memory settings (BashJavaUtils): line 1 the JVM options, line 2 (for a
# TaskManager) the resolved memory and CPU settings to pass on as -D options.
resource_params() {
  local kind=$1; shift
  local out
  out=$(java -cp "$(< "$classpath_file")" -Dlog4j2.configurationFile=none \
        org.apache.flink.runtime.util.bash.BashJavaUtils "$kind" --configDir "$cluster_dir/conf" "$@" 2> /dev/null) \
    || die "Flink rejected the memory settings: $out"
  grep '^BASH_JAVA_UTILS_EXEC_RESULT:' <<< "$out" | sed 's/^BASH_JAVA_UTILS_EXEC_RESULT://'
}

dynamic_properties() {
  local args=()
  while IFS= read -r line; do [[ -n "$line" ]] && args+=(-D "$line"); done < "$cluster_dir/dynamic.properties"
  printf '%s\n' "${args[@]}"
}

start_process() { # name main-class jvm-params extra-args...
  local name=$1 main=$2 jvm=$3; shift 3
  local props=()
  mapfile -t props < <(dynamic_properties)
  local java_opts
  java_opts=$(sed -n 's/^env\.java\.default-opts\.all: *//p' "$cluster_dir/conf/config.yaml")
  # shellcheck disable=SC2086 # the JVM parameters are word lists
  nohup java $jvm $java_opts \
    -Dlog.file="$cluster_dir/log/$name.log" \
    -Dlog4j.configurationFile="file:$cluster_dir/conf/log4j.properties" \
    -Djava.io.tmpdir="$cluster_dir/tmp" \
    -cp "$(< "$classpath_file")" "$main" --configDir "$cluster_dir/conf" "${props[@]}" "$@" \
    > "$cluster_dir/log/$name.out" 2>&1 < /dev/null &
  echo $! > "$cluster_dir/$name.pid"
}

start_taskmanager() {
  local i=$1
  alive "$cluster_dir/taskmanager-$i.pid" && die "TaskManager $i is already running (pid $(< "$cluster_dir/taskmanager-$i.pid"))"
  local props=() params=() resolved=()
  mapfile -t props < <(dynamic_properties)
  mapfile -t params < <(resource_params GET_TM_RESOURCE_PARAMS "${props[@]}")
  read -r -a resolved <<< "${params[1]}"
  start_process "taskmanager-$i" org.apache.flink.runtime.taskexecutor.TaskManagerRunner "${params[0]}" \
    "${resolved[@]}" -D "taskmanager.resource-id=taskmanager-$i"
  info "TaskManager $i started (pid $(< "$cluster_dir/taskmanager-$i.pid"), log $cluster_dir/log/taskmanager-$i.log)"
}

cmd_start() {
  local rest_port=8081 taskmanagers=2 slots=2 overrides=()
  while [[ $# -gt 0 ]]; do
    case $1 in
      --rest-port) rest_port=$2; shift 2 ;;
      --taskmanagers) taskmanagers=$2; shift 2 ;;
      --slots) slots=$2; shift 2 ;;
      -D) overrides+=("$2"); shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) die "start: unknown option $1" ;;
    esac
  done
  alive "$cluster_dir/jobmanager.pid" && die "a local cluster is already running in $cluster_dir (scripts/cluster.sh stop)"
  ensure_classpath
  [[ "$rest_port" == 0 ]] && rest_port=$(free_port)
  # Checkpoints, savepoints and logs of an earlier cluster stay: a job can resume from them after a restart.
  rm -rf "$cluster_dir"/{conf,tmp,web-upload}
  mkdir -p "$cluster_dir"/{conf,log,tmp,checkpoints,savepoints,web-upload}
  cp "$root/config/flink/config.yaml" "$root/config/flink/log4j.properties" "$cluster_dir/conf/"
  # The production config, with this machine's addresses, ports, sizes and local directories instead.
  cat > "$cluster_dir/dynamic.properties" <<PROPS
jobmanager.rpc.address=127.0.0.1
jobmanager.rpc.port=$(free_port)
jobmanager.bind-host=127.0.0.1
taskmanager.host=127.0.0.1
taskmanager.bind-host=127.0.0.1
rest.address=127.0.0.1
rest.bind-address=127.0.0.1
rest.port=$rest_port
jobmanager.memory.process.size=1536m
taskmanager.memory.process.size=1280m
taskmanager.numberOfTaskSlots=$slots
execution.checkpointing.dir=file://$cluster_dir/checkpoints
execution.checkpointing.savepoint-dir=file://$cluster_dir/savepoints
io.tmp.dirs=$cluster_dir/tmp
web.tmpdir=$cluster_dir/tmp
web.upload.dir=$cluster_dir/web-upload
heartbeat.interval=2000
heartbeat.timeout=15000
PROPS
  printf '%s\n' "${overrides[@]}" >> "$cluster_dir/dynamic.properties"
  echo "127.0.0.1:$rest_port" > "$cluster_dir/rest-address"

  local props=()
  mapfile -t props < <(dynamic_properties)
  start_process jobmanager org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint \
    "$(resource_params GET_JM_RESOURCE_PARAMS "${props[@]}" | head -1)"
  info "JobManager started (pid $(< "$cluster_dir/jobmanager.pid"), log $cluster_dir/log/jobmanager.log)"
  for i in $(seq 1 "$taskmanagers"); do start_taskmanager "$i"; done

  address=127.0.0.1:$rest_port flink_rest await-taskmanagers "$taskmanagers" --timeout 180 || exit 1
  info "Flink session cluster up: $taskmanagers TaskManagers × $slots slots"
  info "  web UI and REST API: http://127.0.0.1:$rest_port"
  info "  checkpoints and savepoints: $cluster_dir/checkpoints, $cluster_dir/savepoints"
}

stop_pid_file() {
  local file=$1
  if alive "$file"; then
    local pid; pid=$(< "$file")
    kill "$pid" 2> /dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2> /dev/null || break; sleep 1; done
    kill -9 "$pid" 2> /dev/null || true
  fi
  rm -f "$file"
}

cmd_stop() {
  local any=false f
  for f in "$cluster_dir"/taskmanager-*.pid "$cluster_dir"/jobmanager.pid; do
    [[ -f "$f" ]] || continue
    any=true
    stop_pid_file "$f"
  done
  rm -f "$cluster_dir/rest-address"
  $any && info "Local cluster stopped" || info "No local cluster running in $cluster_dir"
}

cmd_taskmanager() {
  [[ $# -eq 2 ]] || die "usage: taskmanager start|kill|pid I"
  local action=$1 i=$2 file="$cluster_dir/taskmanager-$2.pid"
  case $action in
    start) [[ -f "$cluster_dir/dynamic.properties" ]] || die "no local cluster in $cluster_dir"; start_taskmanager "$i" ;;
    kill) alive "$file" || die "TaskManager $i is not running"; kill -9 "$(< "$file")"; info "TaskManager $i killed (SIGKILL)" ;;
    pid) alive "$file" || die "TaskManager $i is not running"; cat "$file" ;;
    *) die "usage: taskmanager start|kill|pid I" ;;
  esac
}

# ---- Dispatch --------------------------------------------------------------------------------------------------

args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --address) address=$2; shift 2 ;;
    --) args+=("$@"); break ;;
    *) args+=("$1"); shift ;;
  esac
done
set -- "${args[@]}"
[[ $# -ge 1 ]] || { usage; exit 2; }
command=$1; shift
case $command in
  start) cmd_start "$@" ;;
  stop) cmd_stop ;;
  taskmanager) cmd_taskmanager "$@" ;;
  status|list|submit|resume|cancel|stop-with-savepoint|checkpoint) flink_rest "$command" "$@" ;;
  help|-h|--help) usage ;;
  *) usage; exit 2 ;;
esac
