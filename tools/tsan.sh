#!/usr/bin/env bash
# Runs the unit and connection-level tests under ThreadSanitizer (the live-cluster suites start release-like
# processes and are left out: their races would be the child processes', which TSan does not see).
#   tools/tsan.sh [extra swift test flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
# The toolchain's lld: the system's gold cannot link sanitizer-instrumented Swift.
toolset=$(mktemp /tmp/pixelflow-tsan-toolset.XXXXXX.json)
trap 'rm -f "$toolset"' EXIT
echo "{\"schemaVersion\": \"1.0\", \"linker\": {\"path\": \"$(dirname "$(readlink -f "$(command -v swift)")")/ld.lld\"}}" > "$toolset"
TSAN_OPTIONS="halt_on_error=1 ${TSAN_OPTIONS:-}" swift test --sanitize=thread --scratch-path .build-tsan --toolset "$toolset" \
  --filter 'PixelFlow(Protocol|Compression|Pipeline|Coordinator|Worker|Client|Batch)Tests|pfctlTests' "$@"
