#!/usr/bin/env bash
# A deliberately broken run: the post stage is told to expect another nonce, so the proof of
# kexec must fail (exit 1, `not ok N kexec.nonce`). Runs on the 7.3 LUO kernel (fast boot).
#   tests/qemu/broken_wrong_nonce.sh BUILD_DIR
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/lib.sh"
qemu_test_init broken_wrong_nonce "${1:-}"
kernel_luo73
build_initrd
run_cycle --append "liveupdate=on kho=on lu_boot.profile=memfd lu_boot.post_args=--expect-nonce,0123456789abcdef"
expect_exit 1
expect_line '^not ok [0-9]+ kexec\.nonce' "a wrong nonce must fail the proof of kexec"
qemu_test_done
