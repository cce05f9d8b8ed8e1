#!/usr/bin/env bash
# The coordinator's CPU per job as an instruction count, held against the committed baseline: fails when a change
# makes a job cost more than 10 % more. Instructions come from callgrind running `pixelflow-bench coordinator`
# (one thread, in-memory connections, hashing seeded alike every run), so they repeat to within a fraction of a
# percent on any machine, unlike times. Two runs that differ only in their job count give the cost per job
# without start-up.
#
#   bench/cpu_regression.sh [BIN_DIR]            check (BIN_DIR holds a release pixelflow-bench; default .build/release)
#   bench/cpu_regression.sh [BIN_DIR] --update   measure and write the baseline (after a deliberate change)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release}
baseline_file=bench/baselines/coordinator-instructions-per-job
tolerance=1.10
short=1000
long=4000
work=$(mktemp -d /tmp/pf-cpu-regression.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Valgrind 3.19 cannot read the DWARF 5 the Swift toolchain writes: run a copy without debug info.
objcopy --strip-debug "$bin/pixelflow-bench" "$work/pixelflow-bench"

instructions() {  # instructions JOBS: every instruction the process ran, warm-up and start-up included
  SWIFT_DETERMINISTIC_HASHING=1 valgrind --tool=callgrind --callgrind-out-file="$work/out.$1" \
    "$work/pixelflow-bench" coordinator --jobs "$1" --warmup 1000 --runs 1 > "$work/log.$1" 2>&1 \
    || { cat "$work/log.$1" >&2; exit 1; }
  awk '/^(summary|totals):/ {print $2; exit}' "$work/out.$1"
}

short_count=$(instructions $short)
long_count=$(instructions $long)
per_job=$(( (long_count - short_count) / (long - short) ))
echo "coordinator job path: $per_job instructions per job (callgrind; $short and $long jobs after 1000 warm-up)"

if [[ ${2:-} == --update ]]; then
  mkdir -p "$(dirname "$baseline_file")"
  echo "$per_job" > "$baseline_file"
  echo "baseline written to $baseline_file"
  exit 0
fi
baseline=$(cat "$baseline_file")
awk -v now="$per_job" -v base="$baseline" -v limit="$tolerance" 'BEGIN {
  ratio = now / base
  printf "baseline %d instructions per job: ratio %.3f (fails above %.2f)\n", base, ratio, limit
  if (ratio > limit) { print "FAIL: the coordinator spends more than 10 % more per job than the baseline"; exit 1 }
  if (ratio < 0.9) print "note: more than 10 % below the baseline; bench/cpu_regression.sh --update records the gain"
}'
