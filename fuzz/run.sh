#!/usr/bin/env bash
# Builds the libFuzzer target over the frame decoder, the handshake and payload assembly, and fuzzes it for
# SECONDS (default 60), starting from the golden frames of proto/vectors. Crashes land in fuzz/artifacts/.
#   fuzz/run.sh [SECONDS] [extra libFuzzer flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"; shift || true

# The toolchain's lld: the system's gold cannot link sanitizer-instrumented Swift.
toolset=$(mktemp /tmp/pixelflow-fuzz-toolset.XXXXXX.json)
trap 'rm -f "$toolset"' EXIT
echo "{\"schemaVersion\": \"1.0\", \"linker\": {\"path\": \"$(dirname "$(readlink -f "$(command -v swift)")")/ld.lld\"}}" > "$toolset"
swift build -c release --product pixelflow-fuzz --scratch-path .build-fuzz --toolset "$toolset" \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING

corpus=fuzz/corpus
mkdir -p "$corpus" fuzz/artifacts
# Seeds: each golden frame, prefixed with a target selector byte (0 decoder, 1 handshake, 2 assembly).
for file in proto/vectors/*.hex; do
  name=$(basename "$file" .hex)
  bytes=$(grep -v '^#' "$file" | tr -d ' \n')
  for selector in 00 01 02; do
    printf '%s%s' "$selector" "$bytes" | xxd -r -p > "$corpus/$selector-$name"
  done
done

ASAN_OPTIONS=detect_leaks=0 .build-fuzz/release/pixelflow-fuzz "$corpus" -max_total_time="$seconds" -max_len=70000 \
  -artifact_prefix=fuzz/artifacts/ -print_final_stats=1 "$@"
