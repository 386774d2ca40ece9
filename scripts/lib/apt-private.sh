# shellcheck shell=bash
# Private apt state for lu-test: fetch .deb files (never install them) from suites the
# host does not list, without touching the host's apt state.
#
# The mirror is whatever the host's own apt sources use; no host name lives in this repo.
# Usage (sourced):  lu_apt_init SUITE...   then   lu_apt download PKG...   (in the cwd)

LU_CACHE="${LU_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lu-test}"
LU_APT_DIR="$LU_CACHE/apt" # lu_apt_init moves it to a per-suite-set subdirectory

# Print the first Debian archive URI of the host's apt sources (one-line or deb822 format).
# Security and third-party repositories are skipped: we want the main archive.
lu_apt_mirror() {
    local uri
    uri=$(
        {
            [ -r /etc/apt/sources.list ] && awk '$1 == "deb" {
                for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i, $(i+1); break } }' \
                /etc/apt/sources.list
            for f in /etc/apt/sources.list.d/*.sources; do
                [ -r "$f" ] || continue
                awk 'BEGIN { RS = ""; FS = "\n" } {
                    uri = ""; suites = ""; enabled = 1
                    for (i = 1; i <= NF; i++) {
                        if ($i ~ /^URIs:/)    { sub(/^URIs:[ \t]*/, "", $i); split($i, u, /[ \t]+/); uri = u[1] }
                        if ($i ~ /^Suites:/)  { sub(/^Suites:[ \t]*/, "", $i); split($i, s, /[ \t]+/); suites = s[1] }
                        if ($i ~ /^Enabled:[ \t]*no/) enabled = 0
                    }
                    if (uri != "" && enabled) print uri, suites }' "$f"
            done
            for f in /etc/apt/sources.list.d/*.list; do
                [ -r "$f" ] || continue
                awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i, $(i+1); break } }' "$f"
            done
        } | awk '$2 !~ /security/ && $1 ~ /\/debian\/?$/ { print $1; exit }'
    )
    if [ -z "$uri" ]; then
        echo "lu-test: no Debian archive URI found in /etc/apt/sources.list{,.d}" >&2
        return 1
    fi
    printf '%s\n' "${uri%/}"
}

_lu_apt_opts() {
    printf '%s\n' \
        -o "Dir::State=$LU_APT_DIR/state" \
        -o "Dir::State::Lists=$LU_APT_DIR/state/lists" \
        -o "Dir::State::status=$LU_APT_DIR/state/status" \
        -o "Dir::Cache=$LU_APT_DIR/cache" \
        -o "Dir::Etc::SourceList=$LU_APT_DIR/sources.list" \
        -o "Dir::Etc::SourceParts=$LU_APT_DIR/sources.list.d" \
        -o "Dir::Etc::Preferences=$LU_APT_DIR/preferences" \
        -o "Dir::Etc::PreferencesParts=$LU_APT_DIR/preferences.d" \
        -o "APT::Architecture=amd64" \
        -o "APT::Architectures=amd64" \
        -o "Acquire::Languages=none" \
        -o "Debug::NoLocking=1" \
        -o "APT::Sandbox::User=$(id -un)"
}

lu_apt() {
    local -a opts
    mapfile -t opts < <(_lu_apt_opts)
    apt-get -q "${opts[@]}" "$@"
}

lu_apt_cache() {
    local -a opts
    mapfile -t opts < <(_lu_apt_opts)
    apt-cache "${opts[@]}" "$@"
}

# lu_apt_init SUITE...: write the private sources for the given suites and refresh the
# lists when they are missing or older than a day (LU_APT_REFRESH=1 forces it).
lu_apt_init() {
    local mirror suites="$*" want have s
    mirror=$(lu_apt_mirror) || return 1
    # One state dir per suite set, so callers with different suites never wipe each other's lists.
    LU_APT_DIR="$LU_CACHE/apt/$(printf '%s+' "$@" | sed 's/+$//')"
    mkdir -p "$LU_APT_DIR/state/lists/partial" "$LU_APT_DIR/cache/archives/partial" \
        "$LU_APT_DIR/sources.list.d" "$LU_APT_DIR/preferences.d"
    touch "$LU_APT_DIR/state/status" "$LU_APT_DIR/preferences"
    want=$(for s in $suites; do
        printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' "$mirror" "$s"
    done)
    have=$(cat "$LU_APT_DIR/sources.list" 2>/dev/null || true)
    if [ "$want" != "$have" ]; then
        printf '%s\n' "$want" >"$LU_APT_DIR/sources.list"
        rm -f "$LU_APT_DIR/state/lists/"*_Packages* "$LU_APT_DIR/state/lists/"*Release*
    fi
    if [ "${LU_APT_REFRESH:-0}" = 1 ] ||
        [ -z "$(find "$LU_APT_DIR/state/lists" -maxdepth 1 -name '*_Packages*' -mtime -1 2>/dev/null)" ]; then
        echo "lu-test: refreshing private apt lists ($suites from $mirror)" >&2
        lu_apt update >&2
    fi
}
