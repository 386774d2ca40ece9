#!/usr/bin/env bash
# Every QEMU test in sequence with a one-line summary each (ctest runs them one by one).
#   tests/qemu/run-all.sh BUILD_DIR [TEST...]
# Logs: BUILD_DIR/qemu-tests/<test>.out. Exit 0 when every test passed or skipped.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run-all.sh BUILD_DIR [TEST...]}
shift
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(standin_debian61 runner_deadline_miss cycle_debian61_edu
    cycle_luo73_memfd broken_wrong_nonce broken_memfd_flip)
mkdir -p "$build/qemu-tests"
rc=0 t0=$(date +%s)
for t in "${tests[@]}"; do
    s=$(date +%s)
    "$here/$t.sh" "$build" >"$build/qemu-tests/$t.out" 2>&1
    code=$?
    case $code in 0) word=PASS ;; 77) word=SKIP ;; *) word=FAIL rc=1 ;; esac
    printf '%-24s %s  %4d s\n' "$t" "$word" $(($(date +%s) - s))
    [ "$word" = FAIL ] && grep -E '^\[.*\] (FAIL|ERROR)' "$build/qemu-tests/$t.out" | sed 's/^/    /'
done
printf '%-24s %s  %4d s\n' total "$([ $rc = 0 ] && echo PASS || echo FAIL)" $(($(date +%s) - t0))
exit $rc
