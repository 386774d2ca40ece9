#!/usr/bin/env bash
# The boot -> kexec -> boot chain on Debian 12's 6.1 kernel, without lu-test: /init's
# stand-in mode loads the same kernel and initrd from the read-only 9p share with
# `kexec -s -l ... lu_test.nonce=standin`, kexecs, and checks the nonce on the next boot.
# Also binds edu (behind intel-iommu) to vfio-pci on both boots.
#   tests/qemu/standin_debian61.sh BUILD_DIR
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/lib.sh"
qemu_test_init standin_debian61 "${1:-}" --no-lu-test
kernel_debian61
build_initrd --no-lu-test
run_cycle --device edu --append "lu_boot.mode=standin lu_boot.bind=edu"
expect_exit 0
expect_line '^ok 1 standin_kexec_nonce$' "the second boot carries the nonce: a real kexec"
grep -q 'lu-test-bind-vfio: 0000:00:03.0 bound to vfio-pci' "$QEMU_TEST_WORK/serial.log" &&
    qt_log "ok: edu bound to vfio-pci" || qt_fail "edu was not bound to vfio-pci"
[ "$(grep -c 'LU-TEST-PHASE boot\|LU-TEST-PHASE post-boot' "$QEMU_TEST_WORK/serial.log")" = 2 ] &&
    qt_log "ok: two boots" || qt_fail "expected exactly two boots"
qemu_test_done
