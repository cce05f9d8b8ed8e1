#!/usr/bin/env bash
# The corpus through a cluster spread over simulated hosts: a coordinator on one network namespace and WORKERS
# workers on one each (deploy/netns-hosts.sh, deploy/cluster.sh with REMOTE=netns), pfctl on the machine itself.
# Prints the cluster's images/s and each worker host's (tasks it finished / the run's time). The namespaces share
# the machine's cores: this measures the deployment and how evenly work spreads, not more CPU. Needs root.
#
#   sudo bench/netns_hosts.sh BIN_DIR CORPUS_DIR [WORKERS=3] [SLOTS=1] [ROUNDS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:?usage: netns_hosts.sh BIN_DIR CORPUS_DIR [WORKERS] [SLOTS] [ROUNDS]}")
corpus=${2:?usage}
workers=${3:-3}
slots=${4:-1}
rounds=${5:-2}
export PREFIX=pfbench SUBNET=10.78.0
work=$(mktemp -d /tmp/pf-netns-bench.XXXXXX)
export PIXELFLOW_SECRET=netns-bench-secret-0123456789 PIXELFLOW_KEY_ID=bench
cat > "$work/coordinator.json" <<JSON
{"join": {"key_id": "workers", "secret": "netns-bench-join-secret-0123456789"},
 "tenants": [{"key_id": "bench", "secret": "$PIXELFLOW_SECRET", "rate": 100000, "burst": 100000, "max_queued": 100000,
   "admin": true}]}
JSON
{
  echo "coordinator $PREFIX-host1"
  for i in $(seq 2 $((workers + 1))); do echo "worker $PREFIX-host$i slots=$slots name=host$i"; done
} > "$work/hosts"
export REMOTE=netns REMOTE_DIR="$work/hosts.d" PIXELFLOW_BIN="$bin/pixelflow" PIXELFLOW_CONFIG="$work/coordinator.json"
cleanup() {
  deploy/cluster.sh down "$work/hosts" > /dev/null 2>&1 || true
  deploy/netns-hosts.sh down > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
deploy/netns-hosts.sh up $((workers + 1)) > /dev/null
deploy/cluster.sh up "$work/hosts" > "$work/up.log"
export PIXELFLOW_COORDINATOR=$SUBNET.1:7400

for _ in $(seq 1 100); do  # every worker registered (at most 10 s)
  [ "$("$bin/pfctl" workers --json 2>/dev/null | grep -o '"name"' | wc -l)" -ge "$workers" ] && break
  sleep 0.1
done
images=$(find "$corpus" -type f \( -iname '*.jpg' -o -iname '*.png' -o -iname '*.webp' -o -iname '*.heic' \) | wc -l)
echo "# $workers worker hosts × $slots slots, coordinator on its own host; $images photos per round, $rounds rounds"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for round in $(seq 1 "$rounds"); do
  before=$("$bin/pfctl" workers --json)
  start=$EPOCHREALTIME
  "$bin/pfctl" bench --jobs "$images" --concurrency $((2 * workers * slots)) "$corpus" > "$work/bench.txt"
  seconds=$(python3 -c "print($EPOCHREALTIME - $start)")
  after=$("$bin/pfctl" workers --json)
  echo "round $round: $(grep -o '[0-9.]* images/s' "$work/bench.txt") through the cluster"
  python3 - "$before" "$after" "$seconds" <<'PY'
import json, sys
before = {w["name"]: w for w in json.loads(sys.argv[1])}
after = json.loads(sys.argv[2])
seconds = float(sys.argv[3])
for worker in sorted(after, key=lambda w: w["name"]):
    done = worker["done"] - before.get(worker["name"], {"done": 0})["done"]
    print(f"  {worker['name']} ({worker['address'].split(':')[0]}): {done} images, {done / seconds:.2f} images/s")
PY
done
