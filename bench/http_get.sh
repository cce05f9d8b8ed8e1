#!/usr/bin/env bash
# Requests/s of GET /v1/jobs/{id} (a finished job with its variants) with wrk, against `pixelflow dev`.
#   bench/http_get.sh BIN_DIR IMAGE [SECONDS] [CONNECTIONS]      (installs wrk from Debian when missing)
set -euo pipefail
bin=${1:?usage: http_get.sh BIN_DIR IMAGE [SECONDS] [CONNECTIONS]}
image=${2:?usage}
seconds=${3:-10}
connections=${4:-64}
command -v wrk > /dev/null || { apt-get install -y -q wrk > /dev/null || sudo apt-get install -y -q wrk > /dev/null; }
work=$(mktemp -d /tmp/pf-http-get.XXXXXX)
dev=""
cleanup() { [ -n "$dev" ] && kill "$dev" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export PIXELFLOW_API_TOKEN=bench-api-token-0123456789
"$bin/pixelflow" dev --port 17700 --workers 1 --slots 2 > "$work/dev.log" 2>&1 &
dev=$!
for _ in $(seq 1 100); do grep -q PIXELFLOW_API_TOKEN "$work/dev.log" && break; sleep 0.1; done
api=http://127.0.0.1:17702
auth="Authorization: Bearer $PIXELFLOW_API_TOKEN"
job=$(curl -sf -X POST "$api/v1/jobs" -H "$auth" -H 'Content-Type: application/json' \
  -d '{"source_type":"upload","pipeline":[{"id":"thumb","action":"resize","width":150,"format":"webp"},{"id":"large","action":"resize","width":1200,"format":"jpeg"}]}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
curl -sf -X PUT "$api/v1/jobs/$job/source" -H "$auth" --data-binary "@$image" > /dev/null
curl -sf -X POST "$api/v1/jobs/$job/start" -H "$auth" > /dev/null
for _ in $(seq 1 100); do curl -sf "$api/v1/jobs/$job" -H "$auth" | grep -q '"succeeded"' && break; sleep 0.1; done
echo "GET $api/v1/jobs/$job, $connections connections, ${seconds}s, 2 wrk threads, $(nproc) cores shared with the server"
wrk -t2 -c"$connections" -d"${seconds}s" -H "$auth" "$api/v1/jobs/$job"
