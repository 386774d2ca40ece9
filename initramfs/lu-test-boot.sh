#!/bin/sh
# lu-test boot driver: one live-update cycle per pair of boots, without systemd.
#
# The initramfs /init runs this; a lab machine without systemd can run it from its own init.
# On a boot whose command line has no lu_test.nonce= it runs the pre stage and kexecs;
# on the boot that carries the nonce it runs the post stage, prints the verdict between
# markers on the console and powers off. Everything is driven by the kernel command line
# (lu_boot.* belongs to this script, lu_test.* to lu-test):
#
#   lu_boot.mode=run|standin|shell|conformance
#                                    run (default): lu-test drives the cycle;
#                                    standin: plain kexec -s with a fixed nonce, no lu-test
#                                    (proves the boot -> kexec -> boot chain on its own);
#                                    shell: drop to a shell after setup (debugging);
#                                    conformance: no kexec; the driver conformance suite
#                                    (lu-test-driver-conformance) on the bound devices
#   lu_boot.driver=NAME[,NAME...]    conformance: the driver each bound device must get, in
#                                    bind order (the last name serves the remaining devices)
#   lu_boot.silent_faults=1          conformance: the devices do not report DMA faults (QEMU's igb)
#   lu_boot.profile=NAME             --profile for stage pre (default: auto)
#   lu_boot.bind=edu[,igb,BDF...]    bind these devices to vfio-pci and pass --device for each
#                                    ("edu" = QEMU's edu device, 1234:11e8; "igb" = every
#                                    Intel 82576, 8086:10c9, as QEMU's -device igb offers it)
#   lu_boot.args=A,B,...             extra arguments for stage pre (commas become spaces)
#   lu_boot.post_args=A,B,...        extra arguments for stage post (e.g. fault hooks)
#   lu_boot.between=A,B,...          a lu-test command run after stage pre and before the kexec
#                                    (e.g. debug,flip-memfd-byte)
#   lu_boot.state=9p|tmp             where --state-dir lives: a writable 9p share with tag
#                                    lu-state (default when present), or /run/lu-test (RAM only,
#                                    so only LUO-preserved state survives the kexec)
#   lu_boot.kexec=holder|user        holder (default): `lu-test kexec`, the holder performs it;
#                                    user: a bare `kexec -e`, as typed by a user, while the
#                                    holder only keeps the fds alive
#   lu_boot.debug=1                  trace this script (set -x)
#   lu_boot.poweroff=0               do not power off at the end (lab machines)
#   lu_test.nonce=HEX                put there by lu-test's pre stage: this boot is the post
#                                    stage (lu-test owns lu_test.* and rewrites it when arming)
#
# Console protocol (parsed by scripts/qemu-run):
#   LU-TEST-PHASE <name> <uptime>    boot, pre-start, pre-end, kexec, post-boot, post-start, post-end
#   LU-TEST-VERDICT-BEGIN / LU-TEST-VERDICT-END around the post stage's KTAP (stdout)
#   LU-TEST-EXIT=<code>              lu-test's exit code (0 PASS, 1 FAIL, 2 ERROR, 3 SKIP, ...)
#
# Paths can be overridden from the environment (LU_TEST, KEXEC, LU_SHARE, ...).

LU_TEST=${LU_TEST:-/usr/bin/lu-test}
KEXEC=${KEXEC:-/usr/sbin/kexec}
LU_SHARE=${LU_SHARE:-/mnt/lu-test}   # read-only: vmlinuz + initrd.img for the kexec
LU_STATE=${LU_STATE:-/mnt/lu-state}  # writable: lu-test's state dir across the kexec
LU_MODULES=${LU_MODULES:-/etc/lu-test/modules.load}
LU_BIND=${LU_BIND:-/usr/libexec/lu-test/lu-test-bind-vfio}
LU_CONFORMANCE=${LU_CONFORMANCE:-/usr/bin/lu-test-driver-conformance}

CMDLINE=$(cat /proc/cmdline 2>/dev/null)

phase() { echo "LU-TEST-PHASE $1 $(cut -d' ' -f1 /proc/uptime)"; }
say() { echo "lu-test-boot: $*" >&2; }

# Value of a lu_boot.KEY= parameter on the kernel command line ("" when absent).
param() { cmdline_value "lu_boot.$1"; }
# The nonce lu-test's pre stage put on the armed command line (lu-test owns lu_test.*).
lu_nonce() { cmdline_value lu_test.nonce; }
cmdline_value() {
    v=
    for w in $CMDLINE; do
        case "$w" in "$1="*) v=${w#"$1"=} ;; esac # the last one wins, as in the kernel
    done
    echo "$v"
}

# The command line the next kernel gets: ours minus the boot loader's and lu-test's own
# markers (lu_test.*: the pre stage adds a fresh nonce). lu_boot.* stays, so the next boot
# binds the same devices.
next_cmdline() {
    out=
    for w in $CMDLINE; do
        case "$w" in
        BOOT_IMAGE=* | initrd=* | lu_test.*) ;;
        *) out="$out $w" ;;
        esac
    done
    echo "${out# }"
}

# Debian's busybox has no mountpoint applet.
mounted() { grep -q "^[^ ]* $1 " /proc/mounts 2>/dev/null; }

mount_basics() {
    mkdir -p /proc /sys /dev /run /tmp
    [ -e /proc/self ] || mount -t proc proc /proc
    mounted /sys || mount -t sysfs sysfs /sys
    mounted /dev || mount -t devtmpfs devtmpfs /dev
    mounted /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
    mounted /run || mount -t tmpfs -o mode=0755 tmpfs /run
    CMDLINE=$(cat /proc/cmdline)
}

# insmod in the order the builder resolved from modules.dep (dependencies first).
load_modules() {
    [ -f "$LU_MODULES" ] || return 0
    while read -r ko; do
        [ -n "$ko" ] || continue
        insmod "$ko" 2>/dev/null || say "insmod $ko failed (already built in?)"
    done <"$LU_MODULES"
}

mount_shares() {
    if grep -qw 9p /proc/filesystems; then
        mkdir -p "$LU_SHARE" "$LU_STATE"
        mount -t 9p -o trans=virtio,version=9p2000.L,ro lu-test "$LU_SHARE" 2>/dev/null ||
            say "no read-only 9p share 'lu-test'"
        mount -t 9p -o trans=virtio,version=9p2000.L,rw lu-state "$LU_STATE" 2>/dev/null ||
            say "no writable 9p share 'lu-state'"
    fi
}

# scripts/lu-test-bind-vfio does the binding (driver_override, with safety checks); the
# initramfs carries it next to this script.
bind_devices() {
    DEVICES=
    for want in $(param bind | tr ',' ' '); do
        for one in $(expand_bind "$want"); do
            # shellcheck disable=SC2086 # DEBUG_X is empty or -x: no argument at all when empty
            DEVICES="$DEVICES $(sh ${DEBUG_X:-} "$LU_BIND" "$one")" || say "could not bind '$one' to vfio-pci"
        done
    done
}

# The binder knows "edu"; "igb" becomes the BDFs of every 82576 here.
expand_bind() {
    case "$1" in
    igb)
        for d in /sys/bus/pci/devices/*; do
            [ "$(cat "$d/vendor") $(cat "$d/device")" = "0x8086 0x10c9" ] && basename "$d"
        done
        ;;
    *) echo "$1" ;;
    esac
}

state_dir() {
    if [ "$(param state)" != tmp ] && mounted "$LU_STATE"; then
        echo "$LU_STATE"
    else
        mkdir -p /run/lu-test && echo /run/lu-test
    fi
}

# ---- the lu-test command lines: built here and nowhere else ----
lu_pre() {
    set -- stage pre --backend kernel --profile "${PROFILE:-auto}" --state-dir "$STATE_DIR"
    for b in $DEVICES; do set -- "$@" --device "$b"; done
    set -- "$@" --kernel "$LU_SHARE/vmlinuz" --initrd "$LU_SHARE/initrd.img" --append "$(next_cmdline)"
    # shellcheck disable=SC2046 # word splitting of the comma list is the point
    "$LU_TEST" "$@" $(param args | tr ',' ' ')
}
# shellcheck disable=SC2046
lu_between() { "$LU_TEST" $(param between | tr ',' ' '); }
lu_kexec() {
    if [ "$(param kexec)" = user ]; then
        say "kexec -e typed as a user; the holder only keeps the fds"
        "$KEXEC" -e
    else
        "$LU_TEST" kexec --backend kernel
    fi
}
lu_post() {
    # shellcheck disable=SC2046
    "$LU_TEST" stage post --backend kernel --state-dir "$STATE_DIR" $(param post_args | tr ',' ' ')
}

# The verdict block: lu-test's stdout when it printed KTAP there, else the KTAP stream it
# keeps in the state dir (pre and post lines in one file).
verdict() { # verdict CODE KTAP-FILE
    echo "LU-TEST-VERDICT-BEGIN"
    if grep -q '^KTAP version' "$2" 2>/dev/null; then
        cat "$2"
    elif [ -n "${STATE_DIR:-}" ] && [ -f "$STATE_DIR/lu-test.ktap" ]; then
        cat "$STATE_DIR/lu-test.ktap"
    else
        cat "$2" 2>/dev/null
    fi
    echo "LU-TEST-VERDICT-END"
    echo "LU-TEST-EXIT=$1"
}

finish() {
    sync
    [ "$(param poweroff)" = 0 ] && return 0
    poweroff -f
}

# The driver conformance suite on the bound devices; its gtest output is the verdict block.
conformance_run() {
    phase conformance-start
    list='' name=''
    names=$(param driver | tr ',' ' ')
    for b in $DEVICES; do
        # shellcheck disable=SC2086 # word splitting of the name list is the point
        set -- $names
        [ $# -gt 0 ] && name=$1 && shift && names=$*
        list="$list${name:+$name@}$b "
    done
    LU_TEST_CONFORMANCE="$list" LU_TEST_SILENT_FAULTS="$(param silent_faults)" \
        "$LU_CONFORMANCE" --gtest_color=no >/run/conformance.out 2>&1
    code=$?
    phase conformance-end
    verdict $code /run/conformance.out
    finish
}

standin_cycle() {
    nonce=$(lu_nonce)
    if [ -z "$nonce" ]; then
        phase pre-start
        "$KEXEC" -s -l "$LU_SHARE/vmlinuz" --initrd="$LU_SHARE/initrd.img" \
            --append="$(next_cmdline) lu_test.nonce=standin" || { verdict 2 /dev/null; finish; }
        phase pre-end
        phase kexec
        "$KEXEC" -e
        say "kexec -e returned: $?"
        verdict 2 /dev/null
        finish
    else
        phase post-start
        printf 'KTAP version 1\n1..1\n' >/run/standin.ktap
        if [ "$nonce" = standin ]; then
            echo "ok 1 standin_kexec_nonce" >>/run/standin.ktap
            code=0
        else
            echo "not ok 1 standin_kexec_nonce # got '$nonce'" >>/run/standin.ktap
            code=1
        fi
        phase post-end
        verdict $code /run/standin.ktap
        finish
    fi
}

lu_test_cycle() {
    if [ ! -x "$LU_TEST" ]; then
        say "$LU_TEST missing"
        verdict 2 /dev/null
        finish
        return
    fi
    if [ -z "$(lu_nonce)" ]; then
        phase pre-start
        lu_pre >/run/pre.ktap
        code=$?
        phase pre-end
        # The pre stage's KTAP lines (the stream the post stage continues), for the log.
        echo "LU-TEST-PRE-BEGIN"
        if [ -f "$STATE_DIR/lu-test.ktap" ]; then cat "$STATE_DIR/lu-test.ktap"; else cat /run/pre.ktap; fi
        echo "LU-TEST-PRE-END"
        if [ $code -ne 0 ]; then
            say "stage pre failed ($code)"
            verdict $code /run/pre.ktap
            finish
            return
        fi
        if [ -n "$(param between)" ]; then
            # A fault hook that did not run makes the cycle meaningless: stop with ERROR
            # instead of kexecing into a verdict that would look like a pass.
            if ! lu_between; then
                say "between hook 'lu-test $(param between | tr ',' ' ')' failed; not kexecing"
                verdict 2 /run/pre.ktap
                finish
                return
            fi
        fi
        sync
        phase kexec
        lu_kexec
        code=$?
        say "lu-test kexec returned ($code): the kexec did not happen"
        [ $code -eq 0 ] && code=2
        verdict $code /run/pre.ktap
        finish
    else
        phase post-start
        lu_post >/run/post.ktap
        code=$?
        phase post-end
        verdict $code /run/post.ktap
        finish
    fi
}

main() {
    mount_basics
    [ "$(param debug)" = 1 ] && set -x && DEBUG_X=-x
    phase "$([ -n "$(lu_nonce)" ] && echo post-boot || echo boot)"
    say "kernel $(uname -r), cmdline: $CMDLINE"
    load_modules
    mount_shares
    bind_devices
    STATE_DIR=$(state_dir)
    PROFILE=$(param profile)
    case "$(param mode)" in
    standin) standin_cycle ;;
    shell) exec sh ;;
    conformance) conformance_run ;;
    *) lu_test_cycle ;;
    esac
}

main "$@"
