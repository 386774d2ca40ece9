#!/usr/bin/env bash
# A lu-test cycle with --device on QEMU's igb (Intel 82576) in a 7.3 guest: QEMU 10 from
# bookworm-backports, intel-iommu, the device opened through cdev+iommufd, a repeated memcpy
# through the igb driver before the kexec, a real kexec with liveupdate=on. Upstream 7.3 has no
# VFIO LUO handler, so preserving the device fd is SKIP (the probe's reason), the device checks
# run on the re-opened device, and nothing may fail.
#   tests/qemu/igb_cycle.sh BUILD_DIR [PROFILE]     (PROFILE: auto (default) or memfd)
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/lib.sh"
profile=${2:-auto}
qemu_test_init "igb_cycle_$profile" "${1:-}"
kernel_luo73
build_initrd
run_cycle --device igb --memory 1536 --append "liveupdate=on kho=on lu_boot.profile=$profile lu_boot.bind=igb"
expect_exit 0
expect_line '^ok [0-9]+ kexec\.nonce$' "the nonce proves the kexec"
expect_line '^ok [0-9]+ memfd\.content$' "memfd content identical (digest)"
expect_line '^# pre: dma: driver igb on [0-9a-f:.]+ \(cdev\+iommufd\), [1-9][0-9]* copies of 1024 bytes' \
    "igb opened through iommufd and its cdev; frames looped back before the kexec"
expect_line '^# pre: device [0-9a-f:.]+ not preservable' "PRESERVE_FD of the cdev fd was refused (ENOENT)"
expect_line '^ok [0-9]+ device\.fd-preserved@[0-9a-f:.]+ # SKIP' "device fd preservation: no VFIO handler in 7.3"
expect_line '^# device\.bus-master@[0-9a-f:.]+: before=1$' "the driver had bus mastering on before the kexec"
expect_line '^# device\.bus-master@[0-9a-f:.]+: after=0$' "the kexec reset the unpreserved device"
expect_line '^ok [0-9]+ dma\.progress@[0-9a-f:.]+ # SKIP' "DMA continuity needs a preserved device"
expect_line '^ok [0-9]+ dma\.fresh-memcpy@[0-9a-f:.]+$' "a fresh memcpy on the re-opened device after the kexec verifies"
expect_no_line '^not ok ' "no check may fail"
qemu_test_done
