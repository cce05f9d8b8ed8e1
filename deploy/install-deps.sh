#!/usr/bin/env bash
# Installs what PixelFlow builds against (Debian/Ubuntu packages; root or sudo) and the tools its tests run
# (valgrind for CI's CPU regression check; schemathesis and moto's S3 server, from PyPI, into a virtualenv of their own: $PIXELFLOW_TOOLS, default
# ~/.local/share/pixelflow/tools),
# each only when missing. With --bench, also what the benchmarks use beyond the tests: pyvips (into the same
# virtualenv, for bench/pyvips_reference.py) and Debian's python3-matplotlib (bench/plot_scaling.py).
set -euo pipefail
bench=0
[ "${1:-}" = "--bench" ] && bench=1

packages=(pkg-config libvips-dev libheif-dev libzstd-dev liblz4-dev libsqlite3-dev python3-venv curl prometheus
  valgrind binutils)
[ "$bench" = 1 ] && packages+=(python3-matplotlib)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A Python that can make a virtualenv without Debian's python3-venv (pyenv, a distribution's own) is enough.
if [[ " ${missing[*]} " == *" python3-venv "* ]] && python3 -c "import ensurepip, venv" 2>/dev/null; then
  missing=("${missing[@]/python3-venv/}")
fi
missing=(${missing[@]+"${missing[@]}"})
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

tools=${PIXELFLOW_TOOLS:-$HOME/.local/share/pixelflow/tools}
if [ ! -x "$tools/bin/st" ] || [ ! -x "$tools/bin/moto_server" ]; then
  echo "installing: schemathesis, moto[server] (PyPI) into $tools"
  [ -x "$tools/bin/python" ] || python3 -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check schemathesis 'moto[server]'
fi
if [ "$bench" = 1 ] && ! "$tools/bin/python" -c "import pyvips" 2>/dev/null; then
  echo "installing: pyvips (PyPI) into $tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check pyvips
fi
