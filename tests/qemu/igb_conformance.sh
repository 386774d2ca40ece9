#!/usr/bin/env bash
# The driver conformance suite on QEMU's igb (Intel 82576, 8086:10c9) and edu (1234:11e8)
# inside a 7.3 guest:
# QEMU 10 from bookworm-backports (scripts/fetch-qemu.sh), the device behind an emulated
# intel-iommu, bound to vfio-pci and opened through cdev+iommufd; no kexec
# (lu_boot.mode=conformance). Every check of the suite must pass on QEMU's device model, whose
# reads of an unmapped IOVA succeed (lu_boot.silent_faults=1: that check then asks only for no
# hang, no interrupt and a working device after it).
#   tests/qemu/igb_conformance.sh BUILD_DIR
# Environment: LU_TEST_CONFORMANCE_BIN (default: lu-test-driver-conformance under BUILD_DIR).
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/lib.sh"
qemu_test_init igb_conformance "${1:-}" --no-lu-test
conformance=${LU_TEST_CONFORMANCE_BIN:-$(find "$1" -maxdepth 4 -type f -name lu-test-driver-conformance -perm -u+x | head -n1)}
[ -n "$conformance" ] && [ -x "$conformance" ] || qt_fatal "no lu-test-driver-conformance under $1 (set LU_TEST_CONFORMANCE_BIN)"
kernel_luo73
INITRD="$QEMU_TEST_WORK/initrd.cpio"
"$QEMU_TEST_SRC/initramfs/build.sh" luo73 "$INITRD" --kernel-dir "$KERNEL_DIR" --conformance "$conformance" >/dev/null ||
    qt_fatal "initramfs build failed"
run_cycle --device igb --device edu --memory 1536 \
    --append "lu_boot.mode=conformance lu_boot.bind=igb,edu lu_boot.driver=igb,edu lu_boot.silent_faults=1"
expect_exit 0
for check in ProbeAcceptsItsIdsAndRefusesOthers MemcpyStartReturnsAtOnceAndRaisesNoInterrupt \
    MemcpyWaitCompletesCountsEveryCopyAndTheDataVerify LargeCopyIsSplitIntoChunksWithinMaxMemcpySize \
    RepeatedCopyUpToMaxMemcpyCountCompletesAndMoreIsRefused SendMsiRaisesExactlyOneInterruptOnTheAdvertisedVector \
    ADeviceReportedErrorSurfacesAsAnErrorNotAHangAndTheDeviceRecovers RemoveLeavesTheDeviceQuiescent; do
    for dev in igb edu; do
        expect_line "^\[       OK \] On/DriverConformance\.$check/${dev}_0000_[0-9a-f_]+ " "$check on $dev"
    done
done
expect_line '^\[  SKIPPED \] On/DriverConformance\.EveryWaitHasADeadline/igb_' "DMA cannot be held on a real device"
expect_line '^\[  PASSED  \] 16 tests\.' "8 checks passed on each device"
expect_no_line '^\[  FAILED  \]' "no check may fail"
qemu_test_done
