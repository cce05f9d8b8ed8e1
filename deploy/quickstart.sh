#!/usr/bin/env bash
# Quick start: install what is missing, build, start a local cluster (`pixelflow dev`: a coordinator and two
# workers on loopback) and process sample photos through it with pfctl. Outputs land in ./out/quickstart.
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
echo "building (release; the first build takes a few minutes)…"
swift build -c release >/dev/null
bin=.build/release

# Sample photos: the JPEG wallpapers of one Debian package (11 MB download, CC-BY-SA; not committed).
samples=.samples
if ! ls "$samples"/*.jpg >/dev/null 2>&1; then
  work=$(mktemp -d)
  chmod 755 "$work"  # apt downloads as its own user
  (cd "$work" && apt-get download -q lomiri-wallpapers-20.04 >/dev/null && dpkg-deb -x ./*.deb x)
  mkdir -p "$samples"
  cp "$work"/x/usr/share/backgrounds/*.jpg "$samples"/
  rm -rf "$work"
fi

port=${PIXELFLOW_PORT:-7400}
export PIXELFLOW_SECRET=${PIXELFLOW_SECRET:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}
"$bin"/pixelflow dev --port "$port" --workers 2 --slots 1 > out-dev.log 2>&1 &
dev=$!
trap 'kill "$dev" 2>/dev/null; wait "$dev" 2>/dev/null || true' EXIT
export PIXELFLOW_COORDINATOR=127.0.0.1:$port PIXELFLOW_KEY_ID=dev
for _ in $(seq 1 100); do  # until both workers have registered
  [ "$("$bin"/pfctl workers --json 2>/dev/null | grep -o '"name"' | wc -l)" -ge 2 ] && break
  sleep 0.1
done

"$bin"/pfctl process -o out/quickstart "$samples"
"$bin"/pfctl workers
echo "variants are in out/quickstart/<photo>/<variant>.<ext>"
