#!/usr/bin/env bash
# Installs the system libraries PixelFlow builds against, when missing (Debian/Ubuntu; root or sudo).
set -euo pipefail

packages=(pkg-config libvips-dev libheif-dev libzstd-dev liblz4-dev libsqlite3-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
