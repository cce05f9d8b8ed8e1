#!/usr/bin/env bash
# TLS against plain TCP through the whole cluster, in one run (A B A B, medians), on this machine's cores:
#   1. the canonical corpus with the real engine (1 worker × 2 slots): images/s;
#   2. coordinator capacity with a --null-engine worker (64 slots), tiny sources: jobs/s.
# Two clusters run side by side, one plain and one with TLS 1.3 on every link (certificates from `pixelflow certs
# init`, the worker with its client certificate); only the one being measured has work at any time.
#
#   bench/tls_bench.sh CORPUS_DIR [RUNS]      (build first: swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:?usage: tls_bench.sh CORPUS_DIR [RUNS]}
runs=${2:-3}
bin=.build/release
work=$(mktemp -d /tmp/pf-tls-bench.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
rate() { grep -o '[0-9.]* images/s' "$1" | cut -d' ' -f1; }
images=$(find "$corpus" -type f \( -iname '*.jpg' -o -iname '*.png' -o -iname '*.webp' -o -iname '*.heic' \) | wc -l)
export PIXELFLOW_KEY_ID=bench PIXELFLOW_SECRET=bench-secret-0123456789
"$bin/pixelflow" certs init "$work/certs" --host 127.0.0.1 --host worker > /dev/null
cat > "$work/config.json" <<JSON
{"join": {"secret": "bench-join-secret-0123456789"},
 "tenants": [{"key_id": "bench", "secret": "$PIXELFLOW_SECRET", "rate": 1000000, "burst": 1000000, "max_queued": 1000000}],
 "queue": {"max_jobs": 1000000}}
JSON
tls_env=(PIXELFLOW_TLS_CERT="$work/certs/127.0.0.1.pem" PIXELFLOW_TLS_KEY="$work/certs/127.0.0.1-key.pem"
  PIXELFLOW_TLS_CLIENT_CA="$work/certs/ca.pem")
worker_tls=(--ca "$work/certs/ca.pem" --cert "$work/certs/worker.pem" --key "$work/certs/worker-key.pem")

cluster() {  # cluster NAME PORT TLS(0|1) WORKER_ARGS...: a coordinator and one worker
  local name=$1 port=$2 tls=$3; shift 3
  local environment=() flags=()
  [ "$tls" = 1 ] && environment=("${tls_env[@]}") && flags=("${worker_tls[@]}")
  env "${environment[@]}" "$bin/pixelflow" coordinator --config "$work/config.json" --listen "127.0.0.1:$port" \
    --http "127.0.0.1:$((port + 1))" --data "$work/data-$name" > "$work/$name-coordinator.log" 2>&1 &
  pids+=($!)
  sleep 0.5
  "$bin/pixelflow" worker --coordinator "127.0.0.1:$port" --config "$work/config.json" "${flags[@]}" "$@" \
    > "$work/$name-worker.log" 2>&1 &
  pids+=($!)
}

bench() {  # bench PORT TLS(0|1) OUTPUT ARGS...: pfctl bench against one cluster
  local port=$1 tls=$2 output=$3; shift 3
  local flags=()
  [ "$tls" = 1 ] && flags=(--ca "$work/certs/ca.pem")
  "$bin/pfctl" bench --coordinator "127.0.0.1:$port" "${flags[@]}" "$@" > "$output" 2>&1
}

echo "# TLS 1.3 against plain TCP"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); corpus: $images images; $runs runs"

cluster plain 17430 0 --slots 2
cluster tls 17440 1 --slots 2
sleep 1
plain=() secure=()
for run in $(seq 1 "$runs"); do
  bench 17430 0 "$work/plain-$run.txt" --jobs "$images" --concurrency 4 "$corpus"
  bench 17440 1 "$work/tls-$run.txt" --jobs "$images" --concurrency 4 "$corpus"
  plain+=("$(rate "$work/plain-$run.txt")") secure+=("$(rate "$work/tls-$run.txt")")
  echo "corpus run $run: plain ${plain[-1]} images/s, TLS ${secure[-1]} images/s"
done
a=$(printf '%s\n' "${plain[@]}" | median) b=$(printf '%s\n' "${secure[@]}" | median)
echo "corpus median: plain $a, TLS $b images/s; TLS/plain = $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", b / a}')"

for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
sleep 1
head -c 2048 "$(find "$corpus" -type f -iname '*.jpg' | head -1)" > "$work/tiny.jpg"
cluster plain-null 17450 0 --slots 64 --null-engine
cluster tls-null 17460 1 --slots 64 --null-engine
sleep 1
jobs=${CAPACITY_JOBS:-20000}
plain=() secure=()
for run in $(seq 1 "$runs"); do
  bench 17450 0 "$work/plain-null-$run.txt" --jobs "$jobs" --concurrency 512 --variant t:resize:150:webp "$work/tiny.jpg"
  bench 17460 1 "$work/tls-null-$run.txt" --jobs "$jobs" --concurrency 512 --variant t:resize:150:webp "$work/tiny.jpg"
  plain+=("$(rate "$work/plain-null-$run.txt")") secure+=("$(rate "$work/tls-null-$run.txt")")
  echo "null engine run $run: plain ${plain[-1]} jobs/s, TLS ${secure[-1]} jobs/s"
done
a=$(printf '%s\n' "${plain[@]}" | median) b=$(printf '%s\n' "${secure[@]}" | median)
echo "null engine median: plain $a, TLS $b jobs/s; TLS/plain = $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", b / a}')"
