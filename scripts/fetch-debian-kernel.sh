#!/usr/bin/env bash
# Fetch Debian 12's own 6.1 kernel (never installed on the host) and print the directory
# that holds it:
#   vmlinuz          the bzImage (what the guest kexecs: kexec_file_load wants a bzImage)
#   vmlinux          the same kernel uncompressed (QEMU boots it directly through PVH: faster)
#   lib/modules/<release>/  the modules as shipped, plus a modules.dep written here from each
#                    module's .modinfo "depends=" (the package leaves depmod to its postinst,
#                    which we never run, and the host need not have kmod)
#   kernelrelease    e.g. 6.1.0-37-amd64
#
#   scripts/fetch-debian-kernel.sh [--package linux-image-6.1.0-N-amd64]
#
# Default package: the newest linux-image-6.1.0-*-amd64 in bookworm/bookworm-updates.
# Cached in ${LU_TEST_CACHE:-~/.cache/lu-test}/debian-kernels/<package>_<version>/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/apt-private.sh
source "$here/lib/apt-private.sh"

package=
while [ $# -gt 0 ]; do
    case "$1" in
    --package) package=$2; shift 2 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "fetch-debian-kernel: unknown argument: $1" >&2; exit 64 ;;
    esac
done
log() { echo "fetch-debian-kernel: $*" >&2; }

mkdir -p "$LU_CACHE/debian-kernels"
exec 9>"$LU_CACHE/debian-kernels/.lock"
flock 9

lu_apt_init bookworm bookworm-updates >&2
if [ -z "$package" ]; then
    # ABI numbers are not ordered as strings: sort on the number.
    package=$(lu_apt_cache pkgnames linux-image-6.1.0- |
        grep -E '^linux-image-6\.1\.0-[0-9]+-amd64$' | sort -t- -k4,4n | tail -n1)
fi
[ -n "$package" ] || { log "no linux-image-6.1.0-*-amd64 found"; exit 69; }
version=$(lu_apt_cache policy "$package" | awk '/Candidate:/ { print $2 }')
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
    log "$package has no candidate"
    exit 69
fi

out="$LU_CACHE/debian-kernels/${package}_$version"
if [ -f "$out/.done" ]; then
    log "cached: $out"
    echo "$out"
    exit 0
fi

tmp="$out.tmp"
rm -rf "$tmp" && mkdir -p "$tmp/deb"
(cd "$tmp/deb" && lu_apt download "$package=$version" >&2)
dpkg-deb -x "$tmp"/deb/*.deb "$tmp/root"
release=${package#linux-image-}
cp "$tmp/root/boot/vmlinuz-$release" "$tmp/vmlinuz"
cp "$tmp/root/boot/config-$release" "$tmp/config"
mkdir -p "$tmp/lib/modules"
mv "$tmp/root/lib/modules/$release" "$tmp/lib/modules/$release"
python3 - "$tmp/lib/modules/$release" <<'PY'
import os, sys
root = sys.argv[1]
paths, deps = {}, {}
for d, _, files in os.walk(os.path.join(root, "kernel")):
    for f in files:
        if not f.endswith(".ko"):
            continue
        rel = os.path.relpath(os.path.join(d, f), root)
        name = f[:-3].replace("-", "_")
        paths[name] = rel
        data = open(os.path.join(d, f), "rb").read()
        dep = [x[8:].decode() for x in data.split(b"\0") if x.startswith(b"depends=")]
        deps[name] = [x.replace("-", "_") for x in (dep[0].split(",") if dep and dep[0] else [])]
def closure(name, seen):  # depmod order: direct and indirect dependencies, nearest first
    out = []
    for d in deps.get(name, []):
        if d in paths and d not in seen:
            seen.add(d)
            out.append(d)
            out += closure(d, seen)
    return out
with open(os.path.join(root, "modules.dep"), "w") as fh:
    for name in sorted(paths, key=lambda n: paths[n]):
        fh.write("%s: %s\n" % (paths[name], " ".join(paths[d] for d in closure(name, set()))))
PY
echo "$release" >"$tmp/kernelrelease"
echo "$package $version" >"$tmp/source"
rm -rf "$tmp/root" "$tmp/deb"

# Uncompressed vmlinux for a PVH boot: find the compressed payload inside the bzImage
# (the kernel's own extract-vmlinux does the same) and keep the first candidate that is an ELF.
python3 - "$tmp/vmlinuz" "$tmp/vmlinux" <<'PY'
import lzma, sys, zlib
data = open(sys.argv[1], "rb").read()
def try_xz(off):
    return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[off:])
def try_gzip(off):
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[off:])
for magic, fn in ((b"\xfd7zXZ\x00", try_xz), (b"\x1f\x8b\x08", try_gzip)):
    off = data.find(magic)
    while off != -1:
        try:
            out = fn(off)
            if out[:4] == b"\x7fELF":
                open(sys.argv[2], "wb").write(out)
                sys.exit(0)
        except Exception:
            pass
        off = data.find(magic, off + 1)
sys.exit("no ELF payload found in bzImage (unsupported compression?)")
PY

touch "$tmp/.done"
rm -rf "$out" && mv "$tmp" "$out"
echo "$out"
