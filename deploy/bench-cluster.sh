#!/usr/bin/env bash
# Cluster benchmarks (not tests), measured in one run so the machine's load affects both sides alike:
#   1. the whole cluster (`pixelflow dev`, 1 worker × 2 slots, driven by `pfctl bench`) against the engine
#      in-process (`pixelflow process --threads 2`), alternating A B A B, median of RUNS, on a photo corpus;
#   2. coordinator capacity: workers with --null-engine (no decoding), tiny sources, jobs/s and CPU per job of
#      each process.
#
#   deploy/bench-cluster.sh CORPUS_DIR [RUNS]      (build first: swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:?usage: bench-cluster.sh CORPUS_DIR [RUNS]}
runs=${2:-3}
bin=.build/release
work=$(mktemp -d /tmp/pf-bench.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

export PIXELFLOW_SECRET=bench-secret-0123456789 PIXELFLOW_KEY_ID=dev
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system, in clock ticks
hz=$(getconf CLK_TCK)
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
images=$(find "$corpus" -type f \( -iname '*.jpg' -o -iname '*.png' -o -iname '*.webp' -o -iname '*.heic' \) | wc -l)

start_dev() {  # start_dev PORT ARGS...: a local cluster; sets dev_pid
  local port=$1; shift
  "$bin/pixelflow" dev --port "$port" "$@" > "$work/dev-$port.log" 2>&1 &
  dev_pid=$!
  pids+=("$dev_pid")
  for _ in $(seq 1 100); do grep -q "export PIXELFLOW_SECRET" "$work/dev-$port.log" && break; sleep 0.1; done
  sleep 0.5  # workers register
}

echo "# PixelFlow cluster benchmark"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); corpus: $images images; $runs runs"
echo

# 1. Cluster vs in-process, canonical pipeline.
start_dev 17410 --workers 1 --slots 2
export PIXELFLOW_COORDINATOR=127.0.0.1:17410
in_process=() cluster=() in_process_cpu=() cluster_cpu=()
for run in $(seq 1 "$runs"); do
  TIMEFORMAT='%U %S'
  { time "$bin/pixelflow" process --threads 2 -o "$work/out-$run" "$corpus" > "$work/process-$run.txt" 2>&1; } 2> "$work/process-$run.time"
  in_process+=("$(grep -o '[0-9.]* images/s' "$work/process-$run.txt" | cut -d' ' -f1)")
  in_process_cpu+=("$(awk -v n="$images" '{printf "%.0f", ($1 + $2) * 1000 / n}' "$work/process-$run.time")")
  rm -rf "$work/out-$run"

  before=$(cpu_ticks "$dev_pid")
  { time "$bin/pfctl" bench --jobs "$images" --concurrency 4 "$corpus" > "$work/bench-$run.txt" 2>&1; } 2> "$work/bench-$run.time"
  after=$(cpu_ticks "$dev_pid")
  cluster+=("$(grep -o '[0-9.]* images/s' "$work/bench-$run.txt" | cut -d' ' -f1)")
  cluster_cpu+=("$(awk -v n="$images" -v d="$((after - before))" -v hz="$hz" '{printf "%.0f", (($1 + $2) + d / hz) * 1000 / n}' "$work/bench-$run.time")")
  echo "run $run: in-process ${in_process[-1]} images/s (${in_process_cpu[-1]} CPU-ms/image), cluster ${cluster[-1]} images/s (${cluster_cpu[-1]} CPU-ms/image)"
done
a=$(printf '%s\n' "${in_process[@]}" | median)
b=$(printf '%s\n' "${cluster[@]}" | median)
echo "median: in-process $a images/s, cluster $b images/s, cluster/in-process = $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", b / a}')"
echo "cluster latency (last run): $(grep -E '^latency|^first' "$work/bench-$runs.txt" | tr '\n' ' ')"
kill "$dev_pid"; wait "$dev_pid" 2>/dev/null || true
echo

# 2. Coordinator capacity with null-engine workers: separate processes, so each one's CPU shows.
head -c 2048 "$(find "$corpus" -type f -iname '*.jpg' | head -1)" > "$work/tiny.jpg"
cat > "$work/coordinator.json" <<JSON
{"join": {"secret": "bench-join-secret-0123456789"},
 "tenants": [{"key_id": "dev", "secret": "$PIXELFLOW_SECRET", "rate": 1000000, "burst": 1000000, "max_queued": 1000000}],
 "queue": {"max_jobs": 1000000}}
JSON
"$bin/pixelflow" coordinator --config "$work/coordinator.json" --listen 127.0.0.1:17420 --http 127.0.0.1:17421 > "$work/coordinator.log" 2>&1 &
coordinator=$!; pids+=("$coordinator")
sleep 0.5
"$bin/pixelflow" worker --coordinator 127.0.0.1:17420 --config "$work/coordinator.json" --slots 64 --null-engine --name null > "$work/worker.log" 2>&1 &
worker=$!; pids+=("$worker")
sleep 1
export PIXELFLOW_COORDINATOR=127.0.0.1:17420
jobs=${CAPACITY_JOBS:-30000}
for run in $(seq 1 "$runs"); do
  c0=$(cpu_ticks "$coordinator"); w0=$(cpu_ticks "$worker")
  { time "$bin/pfctl" bench --jobs "$jobs" --concurrency 512 --variant thumb:resize:150:webp "$work/tiny.jpg" > "$work/null-$run.txt" 2>&1; } 2> "$work/null-$run.time"
  c1=$(cpu_ticks "$coordinator"); w1=$(cpu_ticks "$worker")
  rate=$(grep -o '[0-9.]* images/s' "$work/null-$run.txt" | cut -d' ' -f1)
  awk -v r="$rate" -v n="$jobs" -v c="$((c1 - c0))" -v w="$((w1 - w0))" -v hz="$hz" '{
    printf "null engine run %d: %s jobs/s; CPU µs per job: coordinator %.0f, worker %.0f, pfctl %.0f\n", '"$run"', r, c / hz * 1e6 / n, w / hz * 1e6 / n, ($1 + $2) * 1e6 / n }' "$work/null-$run.time"
done
