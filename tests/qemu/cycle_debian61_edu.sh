#!/usr/bin/env bash
# Cycle (a): Debian 12's own 6.1 kernel, edu behind an emulated intel-iommu, VFIO in group
# mode (6.1 has neither iommufd nor the vfio cdev), a real kexec, and `--profile none`:
# plain kexec preserves nothing, so bus master reads as cleared after the kexec and the
# profile says that is expected (XFAIL), while the nonce proves the kexec really happened.
#   tests/qemu/cycle_debian61_edu.sh BUILD_DIR
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/lib.sh"
qemu_test_init cycle_debian61_edu "${1:-}"
kernel_debian61
build_initrd
run_cycle --device edu --append "lu_boot.profile=none lu_boot.bind=edu"
expect_exit 0
expect_line '^ok [0-9]+ kexec\.nonce$' "the nonce on the new command line matches the stored one"
expect_line '^# pre: dma: driver edu on [0-9a-f:.]+ \(group\+container\), [1-9][0-9]* copies' "DMA through edu worked before the kexec"
expect_line '^ok [0-9]+ device\.bus-master@[0-9a-f:.]+ # XFAIL .*bus mastering is off' "bus master cleared by the kexec, expected under profile none"
expect_line '^# device\.bus-master@[0-9a-f:.]+: before=1$' "bus master was on before the kexec"
expect_line '^# device\.bus-master@[0-9a-f:.]+: after=0$' "and off after it"
expect_no_line '^not ok ' "nothing may fail under the negative-control profile"
qemu_test_done
