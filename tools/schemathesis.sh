#!/usr/bin/env bash
# Runs schemathesis (its default checks) against a live coordinator's HTTP API, described by proto/openapi.yaml.
# Uses the debug build (swift build first). Exits with schemathesis' status.
#   tools/schemathesis.sh [MAX_EXAMPLES]      (SCHEMATHESIS_SEED=N for another fixed seed)
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-50}
bin=.build/debug/pixelflow
# deploy/install-deps.sh puts it in a virtualenv of its own.
tools=${PIXELFLOW_TOOLS:-$HOME/.local/share/pixelflow/tools}
if [ -x "$tools/bin/st" ]; then st="$tools/bin/st"; else st=$(command -v st) || st=""; fi
[ -n "$st" ] || { echo "schemathesis is not installed (deploy/install-deps.sh installs it)" >&2; exit 1; }
work=$(mktemp -d /tmp/pf-schemathesis.XXXXXX)
coordinator="" worker="" moto="" sources=""
cleanup() {
  for pid in $worker $coordinator $moto $sources; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
token=schemathesis-token-0123456789
# An object store (moto, beside schemathesis) so s3_presigned jobs can be created and started.
moto_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$tools/bin/moto_server" -H 127.0.0.1 -p "$moto_port" > "$work/moto.log" 2>&1 &
moto=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$moto_port/" && break; sleep 0.1; done
curl -sf -X PUT "http://127.0.0.1:$moto_port/pixelflow" > /dev/null  # the bucket (moto checks no signature here)
export SCHEMATHESIS_S3_SECRET=moto-secret
# A loopback source for url jobs: the hooks point every generated source_url there (nothing leaves the machine).
head -c 4096 /dev/urandom > "$work/source.bin"
python3 tools/source-server.py --port-file "$work/source-port" --file "$work/source.bin" &
sources=$!
for _ in $(seq 1 100); do [ -s "$work/source-port" ] && break; sleep 0.1; done
export SCHEMATHESIS_SOURCE_URL="http://127.0.0.1:$(cat "$work/source-port")/photo.jpg"
cat > "$work/coordinator.json" <<JSON
{"join": {"secret": "schemathesis-join-secret-0123"},
 "tenants": [{"key_id": "st", "secret": "schemathesis-secret-0123", "rate": 100000, "burst": 100000,
              "webhook_secret": "schemathesis-webhook-secret",
              "api_token_sha256": "$(printf %s "$token" | sha256sum | cut -d' ' -f1)"}],
 "webhooks": {"allow": ["127.0.0.1"]}, "sources": {"allow": ["127.0.0.1"]},
 "objects": {"s3": {"endpoint": "http://127.0.0.1:$moto_port", "bucket": "pixelflow", "access_key_id": "AKIATEST",
                    "secret_access_key_env": "SCHEMATHESIS_S3_SECRET"}}}
JSON
"$bin" coordinator --config "$work/coordinator.json" --listen 127.0.0.1:0 --http 127.0.0.1:0 --api 127.0.0.1:0 \
  --data "$work/data" > "$work/coordinator.log" 2>&1 &
coordinator=$!
for _ in $(seq 1 100); do grep -q "HTTP API listening on" "$work/coordinator.log" && break; sleep 0.1; done
api=$(grep -o "HTTP API listening on http://[0-9.:]*" "$work/coordinator.log" | cut -d' ' -f5)
[ -n "$api" ] || { cat "$work/coordinator.log" >&2; exit 1; }
listen=$(grep -o "listening on [0-9.:]*" "$work/coordinator.log" | head -1 | cut -d' ' -f3)
# A null-engine worker, so /readyz is 200 and started jobs run.
"$bin" worker --coordinator "$listen" --config "$work/coordinator.json" --null-engine --slots 4 \
  > "$work/worker.log" 2>&1 &
worker=$!
for _ in $(seq 1 100); do curl -sf "$api/readyz" > /dev/null && break; sleep 0.1; done
status=0
PYTHONPATH=tools SCHEMATHESIS_HOOKS=schemathesis_hooks "$st" run proto/openapi.yaml --url "$api" \
  -H "Authorization: Bearer $token" --max-examples "$examples" --seed "${SCHEMATHESIS_SEED:-20261202}" --no-color || status=$?
kill -0 "$coordinator" || { echo "the coordinator died" >&2; cat "$work/coordinator.log" >&2; exit 1; }
exit $status
