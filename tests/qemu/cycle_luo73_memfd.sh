#!/usr/bin/env bash
# Cycle (b): the self-built 7.3 kernel (scripts/build-kernel.sh) with liveupdate=on: memfd and
# session scenarios go through the real /dev/liveupdate across a real kexec; edu is opened
# through iommufd and its cdev; preserving the device fd is SKIP (upstream 7.3 has no VFIO
# LUO handler) under --profile memfd.
#   tests/qemu/cycle_luo73_memfd.sh BUILD_DIR [PROFILE]     (PROFILE: memfd (default) or auto)
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/lib.sh"
profile=${2:-memfd}
qemu_test_init "cycle_luo73_$profile" "${1:-}"
kernel_luo73
build_initrd
run_cycle --device edu --append "liveupdate=on kho=on lu_boot.profile=$profile lu_boot.bind=edu"
expect_exit 0
expect_line '^ok [0-9]+ kexec\.nonce$' "the nonce proves the kexec"
expect_line '^ok [0-9]+ state\.retrieved$' "lu-test's own state session came back"
expect_line '^ok [0-9]+ sessions\.retrieved$' "every session retrieved by name"
expect_line '^ok [0-9]+ memfd\.retrieved$' "every memfd retrieved by token"
expect_line '^ok [0-9]+ memfd\.content$' "memfd content identical (digest)"
expect_line '^ok [0-9]+ finish\.order$' "sessions finished in order"
expect_line '^ok [0-9]+ device\.fd-preserved@[0-9a-f:.]+ # SKIP' "device fd preservation: no VFIO handler in 7.3"
expect_line '^# pre: device [0-9a-f:.]+ not preservable' "PRESERVE_FD of the cdev fd was refused (ENOENT)"
expect_line '^# pre: dma: driver edu on [0-9a-f:.]+ \(cdev\+iommufd\), [1-9]' "edu opened through iommufd and its cdev, and its DMA worked"
expect_line '^ok [0-9]+ dma\.fresh-memcpy@[0-9a-f:.]+$' "a fresh memcpy on the re-opened device after the kexec verifies"
expect_no_line '^not ok ' "no check may fail"
qemu_test_done
