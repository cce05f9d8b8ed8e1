#!/usr/bin/env bash
# Coordinator and worker CPU per null-engine job for two builds, A B A B, each pair on fresh processes: the
# regression check for the coordinator's per-job cost (read from /proc: user + system time of each process).
#
#   deploy/bench-cpu-per-job.sh BIN_A BIN_B CORPUS_DIR [PAIRS] [JOBS]   BIN_* = folders holding pixelflow and pfctl
set -euo pipefail
bin_a=${1:?usage: bench-cpu-per-job.sh BIN_A BIN_B CORPUS_DIR [PAIRS] [JOBS]}
bin_b=${2:?usage}
corpus=${3:?usage}
pairs=${4:-5}
jobs=${5:-100000}
work=$(mktemp -d /tmp/pf-cpu.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export PIXELFLOW_SECRET=bench-secret-0123456789 PIXELFLOW_KEY_ID=dev
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
head -c 2048 "$(find "$corpus" -type f -iname '*.jpg' | head -1)" > "$work/tiny.jpg"
cat > "$work/coordinator.json" <<JSON
{"join": {"secret": "bench-join-secret-0123456789"},
 "tenants": [{"key_id": "dev", "secret": "$PIXELFLOW_SECRET", "rate": 1000000, "burst": 1000000, "max_queued": 1000000}],
 "queue": {"max_jobs": 1000000}}
JSON

measure() {  # measure BIN PORT LABEL: one coordinator + one null-engine worker, JOBS jobs from pfctl bench
  local bin=$1 port=$2 label=$3
  "$bin/pixelflow" coordinator --config "$work/coordinator.json" --listen "127.0.0.1:$port" \
    --http "127.0.0.1:$((port + 1))" > "$work/coordinator-$port.log" 2>&1 &
  local coordinator=$!; pids+=("$coordinator")
  sleep 0.5
  "$bin/pixelflow" worker --coordinator "127.0.0.1:$port" --config "$work/coordinator.json" --slots 64 \
    --null-engine --name null > "$work/worker-$port.log" 2>&1 &
  local worker=$!; pids+=("$worker")
  sleep 1
  local c0 w0 c1 w1
  c0=$(cpu_ticks "$coordinator"); w0=$(cpu_ticks "$worker")
  PIXELFLOW_COORDINATOR="127.0.0.1:$port" timeout 600 "$bin/pfctl" bench --jobs "$jobs" --concurrency 512 \
    --variant thumb:resize:150:webp "$work/tiny.jpg" > "$work/bench.txt" 2>&1
  c1=$(cpu_ticks "$coordinator"); w1=$(cpu_ticks "$worker")
  awk -v l="$label" -v r="$(grep -o '[0-9.]* images/s' "$work/bench.txt" | cut -d' ' -f1)" -v n="$jobs" \
    -v c="$((c1 - c0))" -v w="$((w1 - w0))" -v hz="$hz" \
    'BEGIN { printf "%s %.0f jobs/s, CPU µs per job: coordinator %.1f, worker %.1f\n", l, r, c / hz * 1e6 / n, w / hz * 1e6 / n }'
  kill "$coordinator" "$worker"; wait "$coordinator" "$worker" 2>/dev/null || true
}

echo "# A = $bin_a, B = $bin_b; $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $jobs jobs"
for pair in $(seq 1 "$pairs"); do
  measure "$bin_a" 17520 "pair $pair A"
  measure "$bin_b" 17530 "pair $pair B"
done
