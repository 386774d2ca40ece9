#!/usr/bin/env bash
# A bare `kexec -e`, typed as a user would, on the self-built 7.3 LUO kernel: lu-test's holder
# does not perform the kexec, it only keeps the session fds alive until the syscall, and that
# alone must carry every session and memfd across.
#   tests/qemu/cycle_luo73_kexec_e.sh BUILD_DIR
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/lib.sh"
qemu_test_init cycle_luo73_kexec_e "${1:-}"
kernel_luo73
build_initrd
run_cycle --append "liveupdate=on kho=on lu_boot.profile=memfd lu_boot.kexec=user"
expect_exit 0
grep -q 'kexec -e typed as a user' "$QEMU_TEST_WORK/serial.log" || { qt_log "FAIL: the console does not show the bare kexec -e"; QEMU_TEST_FAILS=$((QEMU_TEST_FAILS + 1)); }
expect_line '^ok [0-9]+ kexec\.nonce$' "the nonce proves the kexec"
expect_line '^ok [0-9]+ state\.retrieved$' "the state session survived a kexec the holder did not perform"
expect_line '^ok [0-9]+ sessions\.retrieved$' "every session retrieved by name"
expect_line '^ok [0-9]+ memfd\.content$' "memfd content identical (digest)"
expect_no_line '^not ok ' "no check may fail"
qemu_test_done
