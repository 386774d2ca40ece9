#!/usr/bin/env bash
# Build the lu-test guest kernel (Linux 7.3 with KHO + LUO + VFIO/IOMMUFD) from Debian's
# linux-source package and print the directory that holds bzImage, vmlinux and .config.
#
#   scripts/build-kernel.sh [--fragment FILE] [--package linux-source-7.3] [--suite trixie-backports]
#
# The source comes through a private apt state dir (scripts/lib/apt-private.sh), so the host's
# apt configuration is neither needed nor changed. The result is cached outside the clone in
#   ${LU_TEST_CACHE:-~/.cache/lu-test}/kernels/<source-version>-<fragment-hash>/
# and a second run with the same source and fragment only prints that path.
# Build log: <that dir>.log. Build prerequisites are installed with apt-get when missing (root).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/apt-private.sh
source "$here/lib/apt-private.sh"

fragment="$here/kernel/lu-test.config"
package=linux-source-7.3
suite=trixie-backports
jobs=$(nproc)
while [ $# -gt 0 ]; do
    case "$1" in
    --fragment) fragment=$(realpath "$2"); shift 2 ;;
    --package) package=$2; shift 2 ;;
    --suite) suite=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "build-kernel: unknown argument: $1" >&2; exit 64 ;;
    esac
done

log() { echo "build-kernel: $*" >&2; }

# Tools the kernel build needs on Debian 12. Installed only when missing.
ensure_build_deps() {
    local -a need=() pkgs=(build-essential bc bison flex libelf-dev libssl-dev rsync cpio xz-utils)
    local p
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
    done
    [ ${#need[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        log "missing packages: ${need[*]} (run as root or install them: apt-get install ${need[*]})"
        exit 69
    fi
    log "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2
}

mkdir -p "$LU_CACHE/kernels" "$LU_CACHE/src"
exec 9>"$LU_CACHE/kernels/.lock"
flock 9 # one build at a time; a second caller waits and then finds the cache

# Resolve the source version from the private lists (refreshed at most daily), so the cache
# key changes exactly when Debian ships a new source or the fragment changes.
lu_apt_init "$suite" >&2
version=$(lu_apt_cache policy "$package" | awk '/Candidate:/ { print $2 }')
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
    log "$package not found in $suite"
    exit 69
fi
# The key covers the fragment and this recipe: bump recipe when the way of building changes.
recipe=2
frag_hash=$({ echo "recipe=$recipe"; cat "$fragment"; } | sha256sum | cut -c1-12)
key="$version-$frag_hash"
out="$LU_CACHE/kernels/$key"
if [ -f "$out/.done" ]; then
    log "cached: $out"
    echo "$out"
    exit 0
fi

ensure_build_deps

# Fetch and unpack the source (kept per version, shared by fragment variants).
srcroot="$LU_CACHE/src/$package-$version"
if [ ! -f "$srcroot/.unpacked" ]; then
    rm -rf "$srcroot" && mkdir -p "$srcroot/deb"
    (cd "$srcroot/deb" && lu_apt download "$package=$version" >&2)
    dpkg-deb -x "$srcroot"/deb/*.deb "$srcroot/pkg"
    tarball=$(find "$srcroot/pkg/usr/src" -maxdepth 1 -name 'linux-source-*.tar.*' | head -n1)
    log "unpacking $tarball"
    tar -C "$srcroot" -xf "$tarball"
    rm -rf "$srcroot/pkg" "$srcroot/deb"
    touch "$srcroot/.unpacked"
fi
src=$(find "$srcroot" -mindepth 1 -maxdepth 1 -type d -name 'linux-source-*' | head -n1)

build="$LU_CACHE/build/$key"
mkdir -p "$build"
log "building $package $version with $(basename "$fragment") ($frag_hash) in $build, -j$jobs; log: $out.log"
# merge_config -n = allnoconfig with the fragment as KCONFIG_ALLCONFIG: options the fragment
# makes visible stay off unless it names them. (Merging into an allnoconfig .config instead
# lets olddefconfig give them their defaults: IPv6, cpufreq, input... twice the build.)
(cd "$src" && ./scripts/kconfig/merge_config.sh -n -O "$build" "$fragment") >"$out.log" 2>&1 || {
    tail -n 20 "$out.log" >&2
    log "configuring failed; log: $out.log"
    exit 1
}

# merge_config only warns when Kconfig drops a requested value; here it is fatal, because a
# kernel without (say) LIVEUPDATE would boot fine and every LUO check would SKIP silently.
bad=0
while IFS= read -r line; do
    case "$line" in
    CONFIG_*=*)
        opt=${line%%=*}
        got=$(grep -E "^$opt=|^# $opt is not set" "$build/.config" || true)
        if [ "$got" != "$line" ]; then
            log "config: wanted '$line', got '${got:-<absent>}'"
            bad=1
        fi
        ;;
    "# CONFIG_"*" is not set")
        opt=${line#\# }
        opt=${opt%% *}
        if grep -q "^$opt=" "$build/.config"; then
            log "config: wanted '$line', got '$(grep "^$opt=" "$build/.config")'"
            bad=1
        fi
        ;;
    esac
done <"$fragment"
if [ "$bad" != 0 ]; then
    log "the fragment does not survive olddefconfig (dependencies missing?); see $build/.config"
    exit 1
fi

start=$(date +%s)
if ! make -C "$src" O="$build" -j"$jobs" bzImage vmlinux >>"$out.log" 2>&1; then
    tail -n 40 "$out.log" >&2
    log "build failed; full log: $out.log"
    exit 1
fi
make -C "$src" O="$build" INSTALL_HDR_PATH="$build/headers" headers_install >>"$out.log" 2>&1
log "built in $(($(date +%s) - start)) s"

tmp="$out.tmp"
rm -rf "$tmp" && mkdir -p "$tmp"
cp "$build/arch/x86/boot/bzImage" "$build/vmlinux" "$build/.config" "$build/System.map" "$tmp/"
cp -r "$build/headers" "$tmp/headers"
make -s -C "$src" O="$build" kernelrelease 2>/dev/null | tail -n1 >"$tmp/kernelrelease"
echo "$package $version" >"$tmp/source"
cp "$fragment" "$tmp/fragment.config"
touch "$tmp/.done"
rm -rf "$out" && mv "$tmp" "$out"
# Keep the object tree only on request: it is ~1 GB and the cache key already covers rebuilds.
[ "${LU_TEST_KEEP_BUILD:-0}" = 1 ] || rm -rf "$build"
echo "$out"
