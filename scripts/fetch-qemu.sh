#!/usr/bin/env bash
# Fetch QEMU 10 from bookworm-backports (never installed over the host's QEMU) and print the
# directory that holds it:
#   root/                   the unpacked qemu-system-x86, qemu-system-common, qemu-system-data
#   qemu-system-x86_64      a wrapper that runs root/usr/bin/qemu-system-x86_64 with the
#                           module dir and firmware paths the unpacked tree needs
#   version                 the package version, e.g. 1:10.0.2+ds-2+deb13u1~bpo12+1
#
#   scripts/fetch-qemu.sh [--suite bookworm-backports]
#
# Why a wrapper: the unpacked binary looks for its modules in the host's module dir (7.2's,
# whose `-device help` scan then aborts) and for its firmware in /usr/share/qemu. The wrapper
# sets QEMU_MODULE_DIR and passes -L for the unpacked data and for the host's SeaBIOS.
# Cached in ${LU_TEST_CACHE:-~/.cache/lu-test}/qemu/<version>/; a second run only prints it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/apt-private.sh
source "$here/lib/apt-private.sh"

suite=bookworm-backports
packages=(qemu-system-x86 qemu-system-common qemu-system-data)
while [ $# -gt 0 ]; do
    case "$1" in
    --suite) suite=$2; shift 2 ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "fetch-qemu: unknown argument: $1" >&2; exit 64 ;;
    esac
done
log() { echo "fetch-qemu: $*" >&2; }

mkdir -p "$LU_CACHE/qemu"
exec 9>"$LU_CACHE/qemu/.lock"
flock 9

lu_apt_init "$suite" >&2
version=$(lu_apt_cache policy qemu-system-x86 | awk '/Candidate:/ { print $2 }')
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
    log "qemu-system-x86 has no candidate in $suite"
    exit 69
fi
case "$version" in
*~bpo*) ;;
*) log "the candidate $version is not from $suite (is the host's own QEMU newer?)"; exit 69 ;;
esac

out="$LU_CACHE/qemu/${version//:/_}"
if [ -f "$out/.done" ]; then
    log "cached: $out"
    echo "$out"
    exit 0
fi

tmp="$out.tmp"
rm -rf "$tmp" && mkdir -p "$tmp/deb"
# The three packages share one source version; pin each to it so a half-updated suite
# cannot mix releases.
(cd "$tmp/deb" && lu_apt download "${packages[@]/%/=$version}" >&2)
for deb in "$tmp"/deb/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
[ -x "$tmp/root/usr/bin/qemu-system-x86_64" ] || { log "no qemu-system-x86_64 in the packages"; exit 70; }
printf '%s\n' "$version" >"$tmp/version"

# The wrapper resolves its own directory, so the cache can move.
cat >"$tmp/qemu-system-x86_64" <<'EOF'
#!/bin/sh
d=$(cd "$(dirname "$0")" && pwd)
QEMU_MODULE_DIR="$d/root/usr/lib/x86_64-linux-gnu/qemu" exec "$d/root/usr/bin/qemu-system-x86_64" \
    -L "$d/root/usr/share/qemu" -L /usr/share/seabios "$@"
EOF
chmod +x "$tmp/qemu-system-x86_64"

# Prove it runs here (no missing library) and has the device we fetched it for.
if ! "$tmp/qemu-system-x86_64" -device igb,help >"$tmp/igb-help.txt" 2>&1; then
    log "the unpacked QEMU does not run on this host:"
    sed 's/^/    /' "$tmp/igb-help.txt" >&2
    exit 70
fi
rm -rf "$tmp/deb"
touch "$tmp/.done"
rm -rf "$out"
mv "$tmp" "$out"
log "QEMU $version in $out"
echo "$out"
