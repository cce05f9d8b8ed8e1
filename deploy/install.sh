#!/usr/bin/env bash
# Installs PixelFlow without a package: the binaries, systemd units pointing at them, a sample configuration and
# the Grafana dashboard. Existing configuration files are never overwritten.
#
#   deploy/install.sh PREFIX [BIN_DIR]
#
#   PREFIX/bin/pixelflow, PREFIX/bin/pfctl                     from BIN_DIR (default .build/release)
#   PREFIX/lib/systemd/system/pixelflow-{coordinator,worker}.service
#   SYSCONFDIR/pixelflow/coordinator.json (sample; mode 0600), worker.env (sample; mode 0600)
#   PREFIX/share/pixelflow/grafana/pixelflow.json
#
# SYSCONFDIR defaults to /etc for PREFIX /usr, else PREFIX/etc. Then, as root: `systemctl link` (or copy) the units,
# edit the configuration, `systemctl enable --now pixelflow-coordinator`.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:?usage: install.sh PREFIX [BIN_DIR]}
bin_dir=${2:-.build/release}
prefix=$(mkdir -p "$prefix" && cd "$prefix" && pwd)
if [ "$prefix" = /usr ]; then sysconfdir=${SYSCONFDIR:-/etc}; else sysconfdir=${SYSCONFDIR:-$prefix/etc}; fi

for binary in pixelflow pfctl; do
  [ -x "$bin_dir/$binary" ] || { echo "$bin_dir/$binary is missing: swift build -c release first" >&2; exit 2; }
done
install -d "$prefix/bin" "$prefix/lib/systemd/system" "$sysconfdir/pixelflow" "$prefix/share/pixelflow/grafana"
install -m 0755 "$bin_dir/pixelflow" "$bin_dir/pfctl" "$prefix/bin/"

# The units as in deploy/systemd, pointed at this prefix and configuration directory.
for unit in deploy/systemd/*.service; do
  sed -e "s|/opt/pixelflow/pixelflow|$prefix/bin/pixelflow|g" -e "s|/etc/pixelflow|$sysconfdir/pixelflow|g" \
    "$unit" > "$prefix/lib/systemd/system/$(basename "$unit")"
  chmod 0644 "$prefix/lib/systemd/system/$(basename "$unit")"
done

sample() {  # sample FILE: write stdin to FILE unless it exists, mode 0600 (it holds secrets)
  if [ -e "$1" ]; then echo "kept $1"; cat > /dev/null; return; fi
  (umask 077 && cat > "$1")
  echo "wrote $1"
}
secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=' ; }
sample "$sysconfdir/pixelflow/coordinator.json" <<JSON
{
  "listen": "0.0.0.0:7400",
  "http": "127.0.0.1:7401",
  "store": {"path": "/var/lib/pixelflow"},
  "join": {"key_id": "worker", "secret": "$(secret)"},
  "tenants": [
    {"key_id": "default", "secret": "$(secret)", "rate": 50, "burst": 100, "max_queued": 1000}
  ]
}
JSON
sample "$sysconfdir/pixelflow/worker.env" <<ENV
# The coordinator's join secret (join.secret in coordinator.json) and key id.
PIXELFLOW_JOIN_SECRET=
PIXELFLOW_JOIN_KEY_ID=worker
ENV
install -m 0644 deploy/grafana/pixelflow.json "$prefix/share/pixelflow/grafana/"
echo "installed PixelFlow into $prefix (configuration in $sysconfdir/pixelflow)"
