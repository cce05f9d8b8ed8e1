#!/usr/bin/env bash
# Checks deploy/Dockerfile's runtime stage without a container engine: makes the same Debian root with debootstrap,
# installs the packages the Dockerfile's runtime stage lists (read from it, so the check follows the file), copies
# in binaries built as its build stage builds them, and runs them there: `pixelflow process` on real images
# and `pfctl --help`. Needs root and network access to a Debian mirror.
#
#   swift build -c release --static-swift-stdlib
#   sudo deploy/check-runtime-image.sh BIN_DIR IMAGES_DIR      (IMAGES_DIR: photos, e.g. from ../shared/corpus.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir=${1:?usage: check-runtime-image.sh BIN_DIR IMAGES_DIR}
images=${2:?usage: check-runtime-image.sh BIN_DIR IMAGES_DIR}
root=$(mktemp -d /tmp/pixelflow-runtime.XXXXXX)
cleanup() { umount "$root/proc" 2>/dev/null || true; rm -rf "$root"; }
trap cleanup EXIT

command -v debootstrap > /dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap > /dev/null
# The runtime stage's packages: the apt-get install after the last FROM.
packages=$(awk '/^FROM /{stage++} stage == 2' deploy/Dockerfile | tr '\\' ' ' | tr -s ' \n' ' ' \
  | grep -o 'install -y --no-install-recommends [^&]*' | sed 's/install -y --no-install-recommends //')
echo "runtime packages (from deploy/Dockerfile): $packages"
debootstrap --variant=minbase bookworm "$root" "${MIRROR:-http://deb.debian.org/debian}" > "$root.debootstrap.log" 2>&1 \
  || { tail -20 "$root.debootstrap.log"; exit 1; }
rm -f "$root.debootstrap.log"
mount -t proc proc "$root/proc"
# shellcheck disable=SC2086
chroot "$root" sh -c "apt-get update -q > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $packages > /dev/null"
install -m 0755 "$bin_dir/pixelflow" "$bin_dir/pfctl" "$root/usr/local/bin/"
echo "shared libraries the binaries need that the image lacks:"
missing=$(chroot "$root" sh -c 'ldd /usr/local/bin/pixelflow /usr/local/bin/pfctl | grep "not found" || true')
echo "${missing:-  none}"
[ -z "$missing" ] || exit 1
chroot "$root" pfctl --help > /dev/null
mkdir -p "$root/tmp/in"
find "$images" -type f \( -iname '*.jpg' -o -iname '*.heic' -o -iname '*.png' -o -iname '*.webp' \) | head -8 \
  | while read -r image; do cp "$image" "$root/tmp/in/"; done
[ -n "$(ls "$root/tmp/in")" ] || { echo "no photos in $images" >&2; exit 2; }
chroot "$root" pixelflow process --variant thumb:resize:150:webp --variant big:resize:1200:jpeg:q=80 \
  --variant a:resize:400:avif -o /tmp/out /tmp/in
echo "runtime image check passed: $(find "$root/tmp/out" -type f | wc -l) variants written inside the Debian root"
