#!/usr/bin/env bash
# A worker's peak memory over the corpus: a coordinator and one worker with SLOTS slots (the real engine), the
# canonical pipeline from `pfctl bench`, then the worker's peak RSS (VmHWM in /proc) and the run's images/s.
# Extra environment for the worker (e.g. WORKER_ENV="MALLOC_ARENA_MAX=1") compares allocator settings.
#
#   bench/worker_rss.sh BIN_DIR CORPUS_DIR [SLOTS=2]
set -euo pipefail
bin=${1:?usage: worker_rss.sh BIN_DIR CORPUS_DIR [SLOTS]}
corpus=${2:?usage}
slots=${3:-2}
port=${PORT:-7650}
work=$(mktemp -d /tmp/pf-worker-rss.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export PIXELFLOW_SECRET=rss-bench-secret-0123456789 PIXELFLOW_KEY_ID=bench
cat > "$work/coordinator.json" <<JSON
{"join": {"secret": "rss-bench-join-secret-0123456789"},
 "tenants": [{"key_id": "bench", "secret": "$PIXELFLOW_SECRET", "rate": 100000, "burst": 100000, "max_queued": 100000}]}
JSON
"$bin/pixelflow" coordinator --config "$work/coordinator.json" --listen "127.0.0.1:$port" \
  --http "127.0.0.1:$((port + 1))" --data "$work/data" > "$work/coordinator.log" 2>&1 &
pids+=($!)
sleep 0.5
env ${WORKER_ENV:-} "$bin/pixelflow" worker --coordinator "127.0.0.1:$port" --config "$work/coordinator.json" \
  --slots "$slots" --name rss > "$work/worker.log" 2>&1 &
worker=$!
pids+=("$worker")
sleep 1
images=$(find "$corpus" -type f \( -iname '*.jpg' -o -iname '*.png' -o -iname '*.webp' -o -iname '*.heic' \) | wc -l)
PIXELFLOW_COORDINATOR="127.0.0.1:$port" "$bin/pfctl" bench --jobs "$images" --concurrency $((2 * slots)) "$corpus" \
  > "$work/bench.txt"
peak=$(awk '/VmHWM/ {print $2}' "/proc/$worker/status")
echo "worker, $slots slots${WORKER_ENV:+ ($WORKER_ENV)}: peak RSS $((peak / 1024)) MiB," \
  "$(grep -o '[0-9.]* images/s' "$work/bench.txt") over $images photos"
