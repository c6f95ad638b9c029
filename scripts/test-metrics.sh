#!/usr/bin/env bash
# Checks the metrics with a real Prometheus server: installs Debian's prometheus if it is missing, validates the
# shipped scrape config and alert rules with promtool, runs a local metering run whose metrics Prometheus scrapes
# on loopback, and checks over Prometheus's HTTP API that the tokens counted by modality add up to the billed total,
# that the rejected counter equals the rejected topic's count, and that the duplicates counter (which counts since
# the task last started) equals the job's ledger in this run without restarts. Run by .ci/run after the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v prometheus > /dev/null || ! command -v promtool > /dev/null; then
  echo "Installing Debian's prometheus package (for promtool and a scraping server)..."
  if [[ $(id -u) -eq 0 ]]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
  DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -q prometheus > /dev/null
fi
# The package starts a system-wide server on :9090; this test runs its own on a free port instead.
systemctl stop prometheus 2> /dev/null || true

promtool check config config/prometheus/prometheus.yml
promtool check rules config/prometheus/alerts.yml

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
metrics_port=$(free_port)
prometheus_port=$(free_port)
work=$(mktemp -d)
run_log="$work/run.log"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done; wait 2> /dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cat > "$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: tokenmeter-local
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prometheus_port" > "$work/prometheus.log" 2>&1 &
pids+=($!)

scripts/run-local.sh --events 50000 --accounts 2000 --duplicate-rate 0.01 --late-rate 0.01 --malformed-rate 0.01 \
  --web-port 0 --metrics-port "$metrics_port" --linger 120 > "$run_log" 2>&1 &
run_pid=$!
pids+=("$run_pid")

echo "Waiting for the local run to reconcile (metrics on 127.0.0.1:$metrics_port, Prometheus on 127.0.0.1:$prometheus_port)..."
for _ in $(seq 1 600); do
  grep -q '^RECONCILED' "$run_log" && break
  kill -0 "$run_pid" 2> /dev/null || { cat "$run_log"; echo "the local run ended before reconciling" >&2; exit 1; }
  sleep 1
done
reconciled=$(grep '^RECONCILED' "$run_log") || { tail -50 "$run_log"; echo "no RECONCILED line" >&2; exit 1; }
echo "$reconciled"
[[ "$reconciled" == *"status=OK"* ]] || { cat "$run_log"; exit 1; }
billed=$(sed -E 's/.* billed_tokens=([0-9]+).*/\1/' <<< "$reconciled")
rejected=$(sed -E 's/.* rejected=([0-9]+).*/\1/' <<< "$reconciled")
duplicates=$(sed -E 's/.* duplicates=([0-9]+).*/\1/' <<< "$reconciled")

query() {
  curl -sf --get "http://127.0.0.1:$prometheus_port/api/v1/query" --data-urlencode "query=$1" \
    | python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(int(float(r[0]["value"][1])) if r else -1)'
}
# The run ends its job with a drained savepoint before the summary, so the series are read as the last values
# scraped while it ran (counters only grow: the maximum over the run is the final count).
tokens_query='sum(max_over_time(flink_taskmanager_job_task_operator_tokenmeter_region_modality_token_type_tokens_total[15m]))'
rejected_query='sum(max_over_time(flink_taskmanager_job_task_operator_tokenmeter_reason_rejected_total[15m]))'
duplicates_query='sum(max_over_time(flink_taskmanager_job_task_operator_tokenmeter_duplicates_total[15m]))'
for _ in $(seq 1 30); do
  tokens=$(query "$tokens_query")
  rejected_metric=$(query "$rejected_query")
  duplicates_metric=$(query "$duplicates_query")
  [[ "$tokens" == "$billed" && "$rejected_metric" == "$rejected" && "$duplicates_metric" == "$duplicates" ]] && break
  sleep 1
done
echo "Prometheus: tokens by modality summed = $tokens (billed $billed); rejected = $rejected_metric (rejected topic $rejected);" \
  "duplicates = $duplicates_metric (ledger $duplicates)"
if [[ "$tokens" != "$billed" || "$rejected_metric" != "$rejected" || "$duplicates_metric" != "$duplicates" ]]; then
  echo "METRICS MISMATCH" >&2
  exit 1
fi
echo "METRICS OK"
