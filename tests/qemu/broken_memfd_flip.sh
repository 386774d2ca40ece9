#!/usr/bin/env bash
# A deliberately broken run: after the pre stage and before the kexec, one byte of a preserved
# memfd is flipped in the guest (`lu-test debug flip-memfd-byte`, through the holder), so the
# content check must fail (exit 1, `not ok N memfd.content`) while retrieval still works.
#   tests/qemu/broken_memfd_flip.sh BUILD_DIR
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/lib.sh"
qemu_test_init broken_memfd_flip "${1:-}"
kernel_luo73
build_initrd
run_cycle --append "liveupdate=on kho=on lu_boot.profile=memfd lu_boot.between=debug,flip-memfd-byte"
expect_exit 1
expect_line '^not ok [0-9]+ memfd\.content' "a flipped byte must fail the content check"
expect_line '^ok [0-9]+ memfd\.retrieved$' "the memfd itself still came back"
expect_line '^ok [0-9]+ kexec\.nonce$' "the kexec itself was fine"
qemu_test_done
