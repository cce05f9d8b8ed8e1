#!/usr/bin/env bash
# Durable admissions through one coordinator with a null-engine worker, beside stream mode in the same run
# (async A, stream B, A B …): async jobs/s ACCEPTED (each written to the SQLite store before its ACCEPTED) and
# stream jobs/s, 2 KiB sources. Then the restart: time from `pixelflow coordinator` starting to serving with
# RESTART_JOBS (default 10,000) non-terminal jobs in its store.
#
#   deploy/bench-durable.sh BIN [RUNS]      BIN = a folder holding pixelflow and pfctl (e.g. .build/release)
set -euo pipefail
bin=${1:?usage: bench-durable.sh BIN [RUNS]}
runs=${2:-3}
jobs=${DURABLE_JOBS:-50000}
restart_jobs=${RESTART_JOBS:-10000}
work=$(mktemp -d /tmp/pf-durable.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export PIXELFLOW_SECRET=bench-secret-0123456789 PIXELFLOW_KEY_ID=dev
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
head -c 2048 /dev/urandom > "$work/source.bin"
cat > "$work/coordinator.json" <<JSON
{"join": {"secret": "bench-join-secret-0123456789"},
 "tenants": [{"key_id": "dev", "secret": "$PIXELFLOW_SECRET", "rate": 1000000, "burst": 1000000, "max_queued": 1000000}],
 "queue": {"max_jobs": 1000000, "max_source_bytes": 4294967296, "tenant_max_source_bytes": 4294967296}}
JSON

start_coordinator() {  # start_coordinator PORT DATA: waits until it serves
  "$bin/pixelflow" coordinator --config "$work/coordinator.json" --listen 127.0.0.1:$1 --http 127.0.0.1:$(($1 + 1)) \
    --data "$2" > "$work/coordinator.log" 2>&1 &
  coordinator=$!; pids+=("$coordinator")
  for _ in $(seq 1 600); do grep -q "listening on" "$work/coordinator.log" && return; sleep 0.05; done
  echo "the coordinator did not start: $(cat "$work/coordinator.log")" >&2; exit 1
}

run() {  # run MODE-FLAG PORT: jobs/s through a fresh coordinator (fresh store) and one null-engine worker
  local flag=$1 port=$2
  rm -rf "$work/data"
  start_coordinator "$port" "$work/data"
  "$bin/pixelflow" worker --coordinator 127.0.0.1:$port --config "$work/coordinator.json" --slots 64 --null-engine \
    --name null > "$work/worker.log" 2>&1 &
  local worker=$!; pids+=("$worker")
  sleep 1
  PIXELFLOW_COORDINATOR=127.0.0.1:$port "$bin/pfctl" bench $flag --jobs "$jobs" --concurrency 512 \
    --variant thumb:resize:150:webp "$work/source.bin" > "$work/bench.txt" 2>&1 || true
  kill "$worker" "$coordinator"; wait "$worker" "$coordinator" 2>/dev/null || true
  grep -oE '[0-9.]+ (jobs/s admitted|images/s)' "$work/bench.txt" | cut -d' ' -f1
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $jobs jobs of 2 KiB per run, $runs runs"
durable=() stream=()
for i in $(seq 1 "$runs"); do
  durable+=("$(run --async 17610)"); stream+=("$(run "" 17612)")
  echo "run $i: durable async ${durable[-1]} admissions/s, stream ${stream[-1]} jobs/s"
done
da=$(printf '%s\n' "${durable[@]}" | median); sa=$(printf '%s\n' "${stream[@]}" | median)
echo "median: durable async $da admissions/s, stream $sa jobs/s (async/stream $(awk -v a="$da" -v b="$sa" 'BEGIN {printf "%.2f", a / b}'))"

# Restart with non-terminal jobs: no worker, so every accepted job stays queued; kill -9, then time the start.
rm -rf "$work/data"
start_coordinator 17614 "$work/data"
PIXELFLOW_COORDINATOR=127.0.0.1:17614 "$bin/pfctl" bench --async --jobs "$restart_jobs" --concurrency 256 \
  --variant thumb:resize:150:webp "$work/source.bin" > /dev/null
kill -9 "$coordinator"; wait "$coordinator" 2>/dev/null || true
started=$(date +%s.%N)
start_coordinator 17614 "$work/data"
served=$(date +%s.%N)
queued=$(curl -s http://127.0.0.1:17615/metrics | awk '/^pixelflow_queue_depth /{print $2}')
kill "$coordinator"; wait "$coordinator" 2>/dev/null || true
echo "restart with $restart_jobs non-terminal jobs: serving after $(awk -v a="$started" -v b="$served" 'BEGIN {printf "%.2f", b - a}') s, $queued jobs queued"
