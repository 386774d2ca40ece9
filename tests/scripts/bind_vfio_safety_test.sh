#!/usr/bin/env bash
# scripts/lu-test-bind-vfio refuses the root-filesystem disk and the default-route NIC unless
# forced, on a fake sysfs/proc tree (nothing on this machine is touched).
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
sys=$tree/sys proc=$tree/proc
fails=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi; }

mkdir -p "$sys/bus/pci/devices" "$sys/dev/block" "$sys/class/net" "$proc/self" "$proc/net"
add_pci() {  # add_pci BDF CLASS
    local d=$sys/devices/pci0000:00/$1
    mkdir -p "$d/iommu_group_dir"
    echo "$2" >"$d/class"
    echo 0x1af4 >"$d/vendor"; echo 0x1001 >"$d/device"
    ln -s "$d/iommu_group_dir" "$d/iommu_group"
    ln -s "$d" "$sys/bus/pci/devices/$1"
}
add_pci 0000:00:04.0 0x010000   # disk controller with the root filesystem
add_pci 0000:00:05.0 0x020000   # NIC with the default route
add_pci 0000:00:06.0 0x010000   # a spare disk controller
mkdir -p "$sys/devices/pci0000:00/0000:00:04.0/block/vda/vda1"
ln -s "$sys/devices/pci0000:00/0000:00:04.0/block/vda/vda1" "$sys/dev/block/252:1"
mkdir -p "$sys/devices/pci0000:00/0000:00:05.0/net/eth0"
ln -s "$sys/devices/pci0000:00/0000:00:05.0" "$sys/class/net/eth0/device" 2>/dev/null || {
    mkdir -p "$sys/class/net/eth0"; ln -s "$sys/devices/pci0000:00/0000:00:05.0" "$sys/class/net/eth0/device"; }
echo "22 1 252:1 / / rw,relatime - ext4 /dev/vda1 rw" >"$proc/self/mountinfo"
printf 'Iface\tDestination\tGateway\tFlags\nlo\t0000007F\t00000000\t0001\neth0\t00000000\t0102A8C0\t0003\n' >"$proc/net/route"

run() { LU_TEST_SYSFS=$sys LU_TEST_PROC=$proc sh "$here/scripts/lu-test-bind-vfio" "$@" 2>&1; }

out=$(run 0000:00:04.0); rc=$?
check "root-filesystem disk refused" '[ $rc = 1 ] && echo "$out" | grep -q "root filesystem"'
out=$(run 0000:00:05.0); rc=$?
check "default-route NIC refused" '[ $rc = 1 ] && echo "$out" | grep -q "eth0, the default-route"'
out=$(run 0000:00:06.0); rc=$?
check "a spare device passes the safety checks (then finds no vfio-pci in the fake tree)" \
    '[ $rc = 1 ] && echo "$out" | grep -q "vfio-pci driver not available"'
out=$(run --force 0000:00:04.0); rc=$?
check "--force skips the refusal" '! echo "$out" | grep -q "root filesystem"'
out=$(run ../../etc); rc=$?
check "a path is not a BDF" '[ $rc = 64 ]'
[ "$fails" = 0 ] && echo "5 passed, 0 failed" || echo "$((5 - fails)) passed, $fails failed"
exit $((fails > 0))
