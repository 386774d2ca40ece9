#!/usr/bin/env bash
# The runner never hangs: a guest that cannot finish before the deadline is killed and
# reported as MISS with exit code 124.
#   tests/qemu/runner_deadline_miss.sh BUILD_DIR
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/lib.sh"
qemu_test_init runner_deadline_miss "${1:-}" --no-lu-test
kernel_debian61
build_initrd --no-lu-test
start=$(date +%s)
LU_TEST_DEADLINE=3 run_cycle --append "lu_boot.mode=standin"
elapsed=$(($(date +%s) - start))
expect_exit 124
grep -q '^LU-TEST-RESULT MISS: deadline of 3 s passed' "$QEMU_TEST_WORK/run.out" &&
    qt_log "ok: reported as MISS" || qt_fail "no MISS line in the runner's output"
[ "$elapsed" -lt 20 ] && qt_log "ok: returned after ${elapsed} s" || qt_fail "took ${elapsed} s for a 3 s deadline"
pgrep -f "$QEMU_TEST_WORK" >/dev/null && qt_fail "QEMU still running" || qt_log "ok: QEMU is gone"
qemu_test_done
