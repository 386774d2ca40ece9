#!/usr/bin/env bash
# Build the lu-test initramfs (a newc cpio, reproducible byte for byte).
#
#   initramfs/build.sh FLAVOR OUT [--lu-test BIN] [--kernel-dir DIR] [--module NAME]...
#                      [--conformance BIN] [--compress none|gzip]
#
# FLAVOR  luo73     self-built kernel (scripts/build-kernel.sh): everything built in, no modules
#         debian61  Debian 12's kernel (scripts/fetch-debian-kernel.sh): needs --kernel-dir, and
#                   carries the modules for 9p over virtio and VFIO group mode
#         none      no modules (any kernel with what it needs built in)
# OUT     the archive to write
# --lu-test BIN     the lu-test binary (static: cmake -DLU_TEST_STATIC=ON); without it the
#                   image only supports lu_boot.mode=standin
# --kernel-dir DIR  directory with lib/modules/<release>/ and kernelrelease
# --module NAME     another module to load at boot (with its dependencies)
# --conformance BIN the driver conformance suite (lu-test-driver-conformance, static), for
#                   lu_boot.mode=conformance
#
# Contents: busybox-static (+ applet links), kexec-tools with its shared-library closure and
# loader, lu-test, the modules in dependency order (/etc/lu-test/modules.load), /init,
# /usr/libexec/lu-test/lu-test-boot.sh and lu-test-bind-vfio. mtimes are SOURCE_DATE_EPOCH (default: the last
# commit touching initramfs/), owners 0:0, entries sorted.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "initramfs/build.sh: $*" >&2; exit "${2:-64}"; }

[ $# -ge 2 ] || { sed -n '2,23p' "$0" >&2; exit 64; }
flavor=$1 out=$2
shift 2
lu_test='' kernel_dir='' compress=none conformance=
modules=()
while [ $# -gt 0 ]; do
    case "$1" in
    --lu-test) lu_test=$2; shift 2 ;;
    --kernel-dir) kernel_dir=$2; shift 2 ;;
    --module) modules+=("$2"); shift 2 ;;
    --compress) compress=$2; shift 2 ;;
    --conformance) conformance=$2; shift 2 ;;
    *) die "unknown argument: $1" ;;
    esac
done
case "$flavor" in
debian61) modules+=(virtio_pci 9pnet_virtio 9p vfio vfio_iommu_type1 vfio_pci) ;;
luo73 | none) ;;
*) die "unknown flavor: $flavor (luo73, debian61, none)" ;;
esac
[ ${#modules[@]} -eq 0 ] || [ -n "$kernel_dir" ] || die "modules need --kernel-dir"
[ -z "$lu_test" ] || [ -x "$lu_test" ] || die "not an executable: $lu_test" 66
[ -z "$conformance" ] || [ -x "$conformance" ] || die "not an executable: $conformance" 66
command -v cpio >/dev/null || die "cpio missing (apt-get install cpio)" 69
[ -x /bin/busybox ] && busybox_bin=/bin/busybox || busybox_bin=$(command -v busybox) ||
    die "busybox missing (apt-get install busybox-static)" 69
# ldd fails on a static binary ("not a dynamic executable"); `file` may not be installed.
is_static() { ! ldd "$1" >/dev/null 2>&1; }
is_static "$busybox_bin" || die "$busybox_bin is not static (apt-get install busybox-static)" 69
kexec_bin=$(command -v kexec || echo /usr/sbin/kexec)
[ -x "$kexec_bin" ] || die "kexec missing (apt-get install kexec-tools)" 69

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$here" log -1 --format=%ct -- . 2>/dev/null || true)
    SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}
fi
export SOURCE_DATE_EPOCH

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,usr/libexec/lu-test,etc/lu-test,lib,proc,sys,dev,run,tmp,mnt/lu-test,mnt/lu-state}

# A binary and, if dynamic, its shared libraries and loader at their own paths.
add_elf() { # add_elf SRC DEST
    install -D -m 0755 "$1" "$stage$2"
    # Debug info is no use in a guest and grows a RelWithDebInfo lu-test past 60 MB, which the
    # kernel then fails to unpack ("Initramfs unpacking failed: write error").
    if command -v strip >/dev/null; then strip --strip-debug "$stage$2"; fi
    if ! is_static "$1"; then
        ldd "$1" | awk '/=> \// { print $3 } /^\t\// { print $1 }' | while read -r lib; do
            [ -e "$stage$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$stage$lib"
        done
    fi
}

install -m 0755 "$busybox_bin" "$stage/bin/busybox"
# ~400 applet links: one python call instead of one ln process each.
"$busybox_bin" --list | python3 -c '
import os, sys
for a in sys.stdin.read().split():
    if a != "busybox" and not os.path.lexists(sys.argv[1] + "/" + a):
        os.symlink("busybox", sys.argv[1] + "/" + a)' "$stage/bin"
add_elf "$kexec_bin" /usr/sbin/kexec
[ -z "$lu_test" ] || add_elf "$lu_test" /usr/bin/lu-test
[ -z "$conformance" ] || add_elf "$conformance" /usr/bin/lu-test-driver-conformance
install -m 0755 "$here/init" "$stage/init"
install -m 0755 "$here/lu-test-boot.sh" "$stage/usr/libexec/lu-test/lu-test-boot.sh"
install -m 0755 "$here/../scripts/lu-test-bind-vfio" "$stage/usr/libexec/lu-test/lu-test-bind-vfio"

if [ ${#modules[@]} -gt 0 ]; then
    release=$(cat "$kernel_dir/kernelrelease")
    moddir="$kernel_dir/lib/modules/$release"
    [ -f "$moddir/modules.dep" ] || die "no $moddir/modules.dep" 66
    # Dependencies first, each module once: a depth-first walk of modules.dep.
    python3 - "$moddir" "${modules[@]}" >"$stage/etc/lu-test/modules.load.rel" <<'PY'
import os, sys
moddir, wanted = sys.argv[1], sys.argv[2:]
deps, byname = {}, {}
for line in open(os.path.join(moddir, "modules.dep")):
    path, _, rest = line.partition(":")
    deps[path] = rest.split()
    byname[os.path.basename(path).split(".ko")[0].replace("-", "_")] = path
builtin = set()
for line in open(os.path.join(moddir, "modules.builtin")):
    builtin.add(os.path.basename(line.strip()).split(".ko")[0].replace("-", "_"))
order, seen = [], set()
def visit(path):
    if path in seen:
        return
    seen.add(path)
    for d in deps[path]:
        visit(d)
    order.append(path)
for name in wanted:
    name = name.replace("-", "_")
    if name in byname:
        visit(byname[name])
    elif name not in builtin:
        sys.exit("module %s is neither in modules.dep nor built in" % name)
print("\n".join(order))
PY
    while read -r rel; do
        install -D -m 0644 "$moddir/$rel" "$stage/lib/modules/$release/$rel"
        echo "/lib/modules/$release/$rel"
    done <"$stage/etc/lu-test/modules.load.rel" >"$stage/etc/lu-test/modules.load"
    rm "$stage/etc/lu-test/modules.load.rel"
fi

mkdir -p "$(dirname "$out")"
tmp_out="$out.tmp.$$"
(
    cd "$stage"
    find . -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
        cpio --quiet -o -H newc --reproducible -R 0:0
) | case "$compress" in
none) cat ;;
gzip) gzip -n -9 ;;
*) die "unknown --compress $compress" ;;
esac >"$tmp_out"
mv "$tmp_out" "$out"
echo "$out"
