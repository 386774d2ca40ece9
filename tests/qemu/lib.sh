# shellcheck shell=bash
# Shared helpers for the QEMU cycle tests: get a kernel, build an initramfs, run one cycle
# with scripts/qemu-run, and assert on the verdict LINES (not only the exit code).
#
# A test script:   source lib.sh; qemu_test_init NAME BUILD_DIR; ...; qemu_test_done
# Exit codes: 0 pass, 1 an assertion failed, 77 skipped (ctest: SKIP_RETURN_CODE 77).
#
# Environment:
#   LU_TEST_BIN        the lu-test binary (default: found under BUILD_DIR)
#   LU_TEST_QEMU_ECHO  1: copy the guest console to stderr while it runs
#   LU_TEST_DEADLINE   seconds per cycle (default 240)
#   LU_TEST_LUO_KERNEL_DIR, LU_TEST_DEBIAN_KERNEL_DIR
#                      use this kernel directory instead of building / fetching one
#                      (same layout as scripts/build-kernel.sh / fetch-debian-kernel.sh print)

set -uo pipefail

QEMU_TEST_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
QEMU_TEST_FAILS=0

qt_log() { echo "[$QEMU_TEST_NAME] $*" >&2; }
qt_skip() { qt_log "SKIP: $*"; exit 77; }
qt_fatal() { qt_log "ERROR: $*"; exit 1; }

# qemu_test_init NAME BUILD_DIR [--no-lu-test]
qemu_test_init() {
    QEMU_TEST_NAME=$1
    local build=${2:-}
    [ -n "$build" ] || qt_fatal "usage: $0 BUILD_DIR"
    mkdir -p "$build" || qt_fatal "cannot create $build"
    build=$(cd "$build" && pwd)
    QEMU_TEST_WORK="$build/qemu-tests/$QEMU_TEST_NAME"
    rm -rf "$QEMU_TEST_WORK" && mkdir -p "$QEMU_TEST_WORK"
    command -v qemu-system-x86_64 >/dev/null || qt_skip "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
    if [ "${3:-}" != --no-lu-test ]; then
        LU_TEST_BIN=${LU_TEST_BIN:-}
        if [ -z "$LU_TEST_BIN" ]; then
            LU_TEST_BIN=$(find "$build" -maxdepth 3 -type f -name lu-test -perm -u+x 2>/dev/null | head -n1)
        fi
        [ -n "$LU_TEST_BIN" ] && [ -x "$LU_TEST_BIN" ] || qt_fatal "no lu-test binary under $build (set LU_TEST_BIN)"
        qt_log "lu-test: $LU_TEST_BIN"
    fi
    QEMU_TEST_T0=$(date +%s)
}

# Sets KERNEL_DIR, BOOT_KERNEL (what QEMU boots: vmlinux via PVH) and KEXEC_KERNEL (bzImage).
kernel_debian61() {
    KERNEL_DIR=${LU_TEST_DEBIAN_KERNEL_DIR:-}
    [ -n "$KERNEL_DIR" ] || KERNEL_DIR=$("$QEMU_TEST_SRC/scripts/fetch-debian-kernel.sh") ||
        qt_fatal "fetching Debian's 6.1 kernel failed"
    BOOT_KERNEL=$KERNEL_DIR/vmlinux
    KEXEC_KERNEL=$KERNEL_DIR/vmlinuz
    INITRD_FLAVOR=debian61
}
kernel_luo73() {
    KERNEL_DIR=${LU_TEST_LUO_KERNEL_DIR:-}
    [ -n "$KERNEL_DIR" ] || KERNEL_DIR=$("$QEMU_TEST_SRC/scripts/build-kernel.sh") ||
        qt_fatal "building the 7.3 LUO kernel failed"
    BOOT_KERNEL=$KERNEL_DIR/vmlinux
    KEXEC_KERNEL=$KERNEL_DIR/bzImage
    INITRD_FLAVOR=luo73
}

# build_initrd [--no-lu-test]: INITRD for the current kernel flavor.
build_initrd() {
    local -a args=(--kernel-dir "$KERNEL_DIR")
    [ "${1:-}" = --no-lu-test ] || args+=(--lu-test "$LU_TEST_BIN")
    INITRD="$QEMU_TEST_WORK/initrd.cpio"
    "$QEMU_TEST_SRC/initramfs/build.sh" "$INITRD_FLAVOR" "$INITRD" "${args[@]}" >/dev/null ||
        qt_fatal "initramfs build failed"
}

# run_cycle [qemu-run args...]: one boot -> pre -> kexec -> post cycle. Sets RUN_EXIT and
# VERDICT (the file with the KTAP lines between the markers).
run_cycle() {
    VERDICT="$QEMU_TEST_WORK/verdict.ktap"
    local -a echo_arg=()
    [ "${LU_TEST_QEMU_ECHO:-0}" = 1 ] && echo_arg=(--echo)
    "$QEMU_TEST_SRC/scripts/qemu-run" --kernel "$BOOT_KERNEL" --kexec-kernel "$KEXEC_KERNEL" \
        --initrd "$INITRD" --deadline "${LU_TEST_DEADLINE:-240}" \
        --serial-log "$QEMU_TEST_WORK/serial.log" --verdict-file "$VERDICT" \
        --state-dir "$QEMU_TEST_WORK/state" "${echo_arg[@]}" "$@" >"$QEMU_TEST_WORK/run.out"
    RUN_EXIT=$?
    cat "$QEMU_TEST_WORK/run.out"
    qt_log "qemu-run exit $RUN_EXIT; serial console: $QEMU_TEST_WORK/serial.log"
}

qt_fail() {
    qt_log "FAIL: $*"
    QEMU_TEST_FAILS=$((QEMU_TEST_FAILS + 1))
}

expect_exit() {
    [ "$RUN_EXIT" = "$1" ] && qt_log "ok: exit code $1" || qt_fail "exit code $RUN_EXIT, expected $1"
}

# expect_line REGEX [WHY]: some verdict line matches (grep -E, anchored by the caller).
expect_line() {
    if grep -Eq -- "$1" "$VERDICT" 2>/dev/null; then
        qt_log "ok: verdict has /$1/"
    else
        qt_fail "verdict lacks /$1/${2:+ ($2)}"
    fi
}
expect_no_line() {
    if grep -Eq -- "$1" "$VERDICT" 2>/dev/null; then
        qt_fail "verdict has /$1/${2:+ ($2)}: $(grep -E -- "$1" "$VERDICT" | head -n1)"
    else
        qt_log "ok: verdict has no /$1/"
    fi
}

qemu_test_done() {
    qt_log "took $(($(date +%s) - QEMU_TEST_T0)) s"
    if [ "$QEMU_TEST_FAILS" -ne 0 ]; then
        qt_log "$QEMU_TEST_FAILS assertion(s) failed; verdict:"
        sed 's/^/    /' "$VERDICT" >&2 2>/dev/null
        qt_log "last console lines:"
        tail -n 30 "$QEMU_TEST_WORK/serial.log" | sed 's/^/    /' >&2
        exit 1
    fi
    qt_log "PASS"
    exit 0
}
