#!/usr/bin/env bash
# Scale-out of one coordinator: throughput with 1, 2, 4 … 64 worker processes × 4 slots, each task a 50 ms
# sleep (`--null-engine --work-ms 50`: the worker waits without using the CPU, so 64 workers fit on a 2-core machine
# and what is measured is the coordinator's scheduling, not the cores). Ideal: workers × slots / 50 ms jobs/s.
# Prints one CSV line per worker count (workers,slots,work_ms,jobs,seconds,jobs_per_s,ideal,efficiency, and over the
# run the coordinator's CPU in cores and the machine's idle share) to stdout and to OUT.csv;
# `bench/plot_scaling.py docs/scaling.png RUN1.csv RUN2.csv …` draws the median of several runs.
#
#   bench/scaling.sh [OUT.csv] [COUNTS]      e.g. bench/scaling.sh /tmp/scaling.csv "1 2 4 8 16 32 64"
#   (build first: swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-scaling.csv}
counts=${2:-"1 2 4 8 16 32 64"}
slots=${SLOTS:-4}
work_ms=${WORK_MS:-50}
seconds=${SECONDS_PER_POINT:-6}  # jobs per point: about this long at the ideal rate
bin=.build/release
work=$(mktemp -d /tmp/pf-scaling.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export PIXELFLOW_KEY_ID=bench PIXELFLOW_SECRET=bench-secret-0123456789
head -c 2048 /dev/urandom > "$work/source.bin"  # the null engine does not decode
cat > "$work/config.json" <<JSON
{"join": {"secret": "bench-join-secret-0123456789"},
 "tenants": [{"key_id": "bench", "secret": "$PIXELFLOW_SECRET", "rate": 1000000, "burst": 1000000, "max_queued": 1000000}],
 "queue": {"max_jobs": 1000000}}
JSON

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # a process's user + system CPU, in clock ticks
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat; }  # busy, idle
hz=$(getconf CLK_TCK)
echo "workers,slots,work_ms,jobs,seconds,jobs_per_s,ideal,efficiency,coordinator_cores,machine_idle" | tee "$out"
port=$((21000 + RANDOM % 8000))
for n in $counts; do
  pids=()
  "$bin/pixelflow" coordinator --config "$work/config.json" --listen "127.0.0.1:$port" --http "127.0.0.1:$((port + 1))" \
    --data "$work/data-$n" > "$work/coordinator-$n.log" 2>&1 &
  pids+=($!)
  sleep 0.5
  for i in $(seq 1 "$n"); do
    "$bin/pixelflow" worker --coordinator "127.0.0.1:$port" --config "$work/config.json" --slots "$slots" \
      --null-engine --work-ms "$work_ms" --name "w$i" > "$work/worker-$n-$i.log" 2>&1 &
    pids+=($!)
  done
  for _ in $(seq 1 200); do  # every worker registered
    registered=$(curl -s "http://127.0.0.1:$((port + 1))/metrics" | awk '$1 == "pixelflow_workers" {print $2}')
    [ "${registered%.*}" = "$n" ] && break
    sleep 0.1
  done
  ideal=$(awk -v n="$n" -v s="$slots" -v w="$work_ms" 'BEGIN { printf "%.1f", n * s * 1000 / w }')
  jobs=$(awk -v i="$ideal" -v t="$seconds" 'BEGIN { j = int(i * t); print (j < 200 ? 200 : j) }')
  concurrency=$((n * slots * 2))  # twice the slots: the queue never runs dry
  c0=$(cpu_ticks "${pids[0]}"); read -r busy0 idle0 < <(machine_ticks)
  PIXELFLOW_COORDINATOR=127.0.0.1:$port timeout 600 "$bin/pfctl" bench --json --jobs "$jobs" \
    --concurrency "$concurrency" --connections 4 --variant t:resize:64:webp "$work/source.bin" > "$work/bench-$n.json"
  c1=$(cpu_ticks "${pids[0]}"); read -r busy1 idle1 < <(machine_ticks)
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  python3 - "$work/bench-$n.json" "$n" "$slots" "$ideal" "$work_ms" "$((c1 - c0))" "$hz" \
    "$((busy1 - busy0))" "$((idle1 - idle0))" <<'PY' | tee -a "$out"
import json, sys
report = json.load(open(sys.argv[1]))
n, slots, ideal = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
assert report["failed"] == 0, report
rate = report["images_per_second"]
coordinator_ticks, hz, busy, idle = (int(value) for value in sys.argv[6:10])
cores = coordinator_ticks / hz / report["seconds"]
print(f'{n},{slots},{sys.argv[5]},{report["jobs"]},{report["seconds"]:.2f},{rate:.1f},{ideal:.1f},{rate / ideal:.3f},'
      f'{cores:.2f},{idle / (busy + idle):.2f}')
PY
  port=$((port + 2))
done
