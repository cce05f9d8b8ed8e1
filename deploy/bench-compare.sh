#!/usr/bin/env bash
# Two builds side by side in one run (A B B A …, so the machine's load affects both alike): the canonical
# corpus through the whole cluster, and coordinator capacity with null-engine workers (jobs/s, and the
# coordinator's and worker's CPU per job read from /proc). Prints each run and the medians, and the ratio B/A.
#
#   deploy/bench-compare.sh BIN_A BIN_B CORPUS_DIR [RUNS]     BIN_* = folders holding pixelflow and pfctl
#   e.g. git worktree add /tmp/pf-base REV && (cd /tmp/pf-base && swift build -c release)
#        deploy/bench-compare.sh /tmp/pf-base/.build/release .build/release /tmp/pf-corpus 3
set -euo pipefail
bin_a=${1:?usage: bench-compare.sh BIN_A BIN_B CORPUS_DIR [RUNS]}
bin_b=${2:?usage}
corpus=${3:?usage}
runs=${4:-3}
jobs=${CAPACITY_JOBS:-100000}  # long enough that start-up noise does not decide the ratio
work=$(mktemp -d /tmp/pf-compare.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export PIXELFLOW_SECRET=bench-secret-0123456789 PIXELFLOW_KEY_ID=dev
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
images=$(find "$corpus" -type f \( -iname '*.jpg' -o -iname '*.png' -o -iname '*.webp' -o -iname '*.heic' \) | wc -l)
head -c 2048 "$(find "$corpus" -type f -iname '*.jpg' | head -1)" > "$work/tiny.jpg"
cat > "$work/coordinator.json" <<JSON
{"join": {"secret": "bench-join-secret-0123456789"},
 "tenants": [{"key_id": "dev", "secret": "$PIXELFLOW_SECRET", "rate": 1000000, "burst": 1000000, "max_queued": 1000000}],
 "queue": {"max_jobs": 1000000}}
JSON

corpus_run() {  # corpus_run BIN PORT: images/s of the canonical corpus through `pixelflow dev` (1 worker × 2 slots)
  local bin=$1 port=$2
  "$bin/pixelflow" dev --port "$port" --workers 1 --slots 2 > "$work/dev-$port.log" 2>&1 &
  local pid=$!; pids+=("$pid")
  for _ in $(seq 1 100); do grep -q "export PIXELFLOW_SECRET" "$work/dev-$port.log" && break; sleep 0.1; done
  sleep 0.5
  PIXELFLOW_COORDINATOR=127.0.0.1:$port "$bin/pfctl" bench --jobs "$images" --concurrency 4 "$corpus" > "$work/bench.txt" 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true
  grep -o '[0-9.]* images/s' "$work/bench.txt" | cut -d' ' -f1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system, in clock ticks
hz=$(getconf CLK_TCK)

capacity_run() {  # capacity_run BIN PORT: "jobs/s coordinator-µs worker-µs" (CPU per job) for one coordinator + a null-engine worker
  local bin=$1 port=$2 data=()
  # Builds with a job store get a fresh one (stream jobs never write to it).
  "$bin/pixelflow" coordinator --help 2>&1 | grep -q -- --data && data=(--data "$work/data-$port") && rm -rf "$work/data-$port"
  "$bin/pixelflow" coordinator --config "$work/coordinator.json" --listen 127.0.0.1:$port --http 127.0.0.1:$((port + 1)) "${data[@]}" > "$work/coordinator.log" 2>&1 &
  local coordinator=$!; pids+=("$coordinator")
  sleep 0.5
  "$bin/pixelflow" worker --coordinator 127.0.0.1:$port --config "$work/coordinator.json" --slots 64 --null-engine --name null > "$work/worker.log" 2>&1 &
  local worker=$!; pids+=("$worker")
  sleep 1
  local c0 w0 c1 w1
  c0=$(cpu_ticks "$coordinator"); w0=$(cpu_ticks "$worker")
  PIXELFLOW_COORDINATOR=127.0.0.1:$port "$bin/pfctl" bench --jobs "$jobs" --concurrency 512 --variant thumb:resize:150:webp "$work/tiny.jpg" > "$work/null.txt" 2>&1
  c1=$(cpu_ticks "$coordinator"); w1=$(cpu_ticks "$worker")
  kill "$worker" "$coordinator"; wait "$worker" "$coordinator" 2>/dev/null || true
  awk -v r="$(grep -o '[0-9.]* images/s' "$work/null.txt" | cut -d' ' -f1)" -v n="$jobs" -v c="$((c1 - c0))" \
    -v w="$((w1 - w0))" -v hz="$hz" 'BEGIN { printf "%s %.1f %.1f\n", r, c / hz * 1e6 / n, w / hz * 1e6 / n }'
}

echo "# A = $bin_a, B = $bin_b"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); corpus: $images images; $runs runs"
corpus_a=() corpus_b=() capacity_a=() capacity_b=() cpu_a=() cpu_b=()
capacity_of() {  # capacity_of A|B: one capacity run of that build, recorded
  local rate coordinator_cpu worker_cpu
  if [ "$1" = A ]; then
    read -r rate coordinator_cpu worker_cpu <<< "$(capacity_run "$bin_a" 17520)"
    capacity_a+=("$rate"); cpu_a+=("$coordinator_cpu"); line_a="A $rate jobs/s ($coordinator_cpu / $worker_cpu)"
  else
    read -r rate coordinator_cpu worker_cpu <<< "$(capacity_run "$bin_b" 17522)"
    capacity_b+=("$rate"); cpu_b+=("$coordinator_cpu"); line_b="B $rate jobs/s ($coordinator_cpu / $worker_cpu)"
  fi
}
# Odd runs measure A first, even runs B first (A B B A …): whichever runs second in a pair runs on a machine the
# first has warmed, and that must not always be the same build.
for run in $(seq 1 "$runs"); do
  if [ $((run % 2)) -eq 1 ]; then
    corpus_a+=("$(corpus_run "$bin_a" 17510)"); corpus_b+=("$(corpus_run "$bin_b" 17512)")
    capacity_of A; capacity_of B
  else
    corpus_b+=("$(corpus_run "$bin_b" 17512)"); corpus_a+=("$(corpus_run "$bin_a" 17510)")
    capacity_of B; capacity_of A
  fi
  echo "run $run: corpus A ${corpus_a[-1]} B ${corpus_b[-1]} images/s; null-engine $line_a, $line_b [CPU µs per job: coordinator / worker]"
done
ca=$(printf '%s\n' "${corpus_a[@]}" | median); cb=$(printf '%s\n' "${corpus_b[@]}" | median)
na=$(printf '%s\n' "${capacity_a[@]}" | median); nb=$(printf '%s\n' "${capacity_b[@]}" | median)
# The median of the per-run ratios pairs each B with the A measured next to it, under the same load.
ratio_median() { paste -d' ' <(printf '%s\n' "${!1}") <(printf '%s\n' "${!2}") | awk '{printf "%.3f\n", $2 / $1}' | median; }
echo "median corpus: A $ca, B $cb images/s (B/A of medians $(awk -v a="$ca" -v b="$cb" 'BEGIN {printf "%.2f", b / a}'), median of run ratios $(ratio_median 'corpus_a[@]' 'corpus_b[@]'))"
echo "median coordinator CPU per null-engine job: A $(printf '%s\n' "${cpu_a[@]}" | median), B $(printf '%s\n' "${cpu_b[@]}" | median) µs"
echo "median null-engine: A $na, B $nb jobs/s (B/A of medians $(awk -v a="$na" -v b="$nb" 'BEGIN {printf "%.2f", b / a}'), median of run ratios $(ratio_median 'capacity_a[@]' 'capacity_b[@]'))"
