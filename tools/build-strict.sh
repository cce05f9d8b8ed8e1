#!/usr/bin/env bash
# Builds everything (tests included) and fails on any compiler warning in the project's own sources: warnings
# are errors here, without imposing -warnings-as-errors on the dependencies. Run on a clean build (CI's fresh
# clone) so every file is compiled and reports.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift build --build-tests 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || exit "$status"
root=$(pwd)
if grep -E "^$root/(Sources|Tests)/[^:]+:[0-9]+:[0-9]+: warning:" "$log" | sort -u; then
    echo "build-strict: compiler warnings above" >&2
    exit 1
fi
