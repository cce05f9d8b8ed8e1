#!/usr/bin/env bash
# Checks PixelFlowClient's DocC documentation; exits non-zero on any problem:
#   - the catalog (Sources/PixelFlowClient/PixelFlowClient.docc) converts with no warning: every ``link`` resolves;
#   - every public symbol declared in Sources/PixelFlowClient has a /// comment;
#   - no public declaration mentions a PixelFlowProtocol type (the client's API must not change with the wire).
# Symbol graphs come from a build in its own scratch directory (DOCC_SCRATCH, default .build/docc-check), because
# the flags that emit them would otherwise make the next ordinary build recompile every dependency.
# Needs the toolchain's docc and jq. Output: DOCC_OUTPUT (default $scratch/site), a static site.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=${DOCC_SCRATCH:-.build/docc-check}
graphs="$scratch/symbol-graphs"
output=${DOCC_OUTPUT:-$scratch/site}
catalog=Sources/PixelFlowClient/PixelFlowClient.docc
command -v docc >/dev/null || { echo "docc-check: no docc on PATH (it ships with the Swift toolchain)" >&2; exit 2; }
command -v jq >/dev/null || { echo "docc-check: jq is needed to read the symbol graph" >&2; exit 2; }

mkdir -p "$graphs"
# Graphs are written when the module compiles; an up-to-date module keeps the ones already there.
swift build --target PixelFlowClient --scratch-path "$scratch" \
    -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$PWD/$graphs"

client_graphs=$(mktemp -d)
trap 'rm -rf "$client_graphs"' EXIT
# The module's own graph, and those of its extensions to other modules' types, if any.
cp "$graphs"/PixelFlowClient.symbols.json "$graphs"/PixelFlowClient@*.symbols.json "$client_graphs"/ 2>/dev/null \
    || true
[[ -f "$client_graphs/PixelFlowClient.symbols.json" ]] || { echo "docc-check: no symbol graph for PixelFlowClient" >&2; exit 1; }

status=0
undocumented=$(jq -r '.symbols[]
    | select((.location.uri // "") | contains("/Sources/PixelFlowClient/"))
    | select(.docComment == null)
    | "\(.pathComponents | join(".")) (\(.location.uri | split("/") | last):\(.location.position.line + 1))"' \
    "$client_graphs"/PixelFlowClient.symbols.json)
if [[ -n "$undocumented" ]]; then
    echo "docc-check: public symbols without a /// comment:" >&2
    echo "$undocumented" >&2
    status=1
fi

wire_types=$(jq -r '.symbols[]
    | select([.. | objects | .preciseIdentifier? // empty | startswith("s:17PixelFlowProtocol")] | any)
    | .pathComponents | join(".")' "$client_graphs"/PixelFlowClient.symbols.json)
if [[ -n "$wire_types" ]]; then
    echo "docc-check: public API mentioning a PixelFlowProtocol type:" >&2
    echo "$wire_types" >&2
    status=1
fi

if ! docc convert "$catalog" --additional-symbol-graph-dir "$client_graphs" --output-path "$output" \
    --fallback-display-name PixelFlowClient --fallback-bundle-identifier PixelFlowClient --warnings-as-errors; then
    echo "docc-check: docc reported the problems above" >&2
    status=1
fi
[[ $status -eq 0 ]] && echo "docc-check: PixelFlowClient's documentation is complete; site in $output"
exit $status
