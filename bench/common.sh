# shellcheck shell=bash
# Shared helpers for the gokeep benchmark scripts (sourced, not run).
#
# What lives here:
#   - paths: BENCH_DIR (fixture cache, reused across runs), REPO, GOKEEP
#   - go_env / run_go: real `go` in a hermetic environment (temp HOME, GOPATH,
#     GOMODCACHE, GOCACHE; GOPROXY=file://; GOSUMDB=off; GOFLAGS=-mod=mod;
#     GOTOOLCHAIN=local; GOENV=off; no network)
#   - build_gokeep: release build of gokeep (respects CARGO_TARGET_DIR)
#   - has_subcommand: whether the built gokeep knows a subcommand yet
#   - time_cmd / timed: wall seconds, CPU seconds and max RSS of one command (GNU time)
#   - median, ratio, human-readable sizes
#   - fixture stamps: a generated fixture is reused when its parameters match
#
# Scripts using it should `set -euo pipefail` before sourcing.

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_LIB_DIR/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/gokeep-bench}
ROUNDS=${ROUNDS:-3}
mkdir -p "$BENCH_DIR"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 2
}

require_tools() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || die "'$t' is required but not on PATH"
    done
}

# GNU time (for max RSS). Installed on demand where apt-get is available.
ensure_gnu_time() {
    if [[ -x /usr/bin/time ]] && /usr/bin/time -v true >/dev/null 2>&1; then
        return 0
    fi
    if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
        log "installing GNU time (for max RSS)"
        apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y time >/dev/null 2>&1; } ||
            die "could not install GNU time; install the 'time' package"
    else
        die "GNU time (/usr/bin/time -v) is required for max RSS; install the 'time' package"
    fi
}

# --- hermetic go -------------------------------------------------------------

# go_env WORLD PROXY_DIR: prints env assignments (one per line) for a Go world
# rooted at WORLD (home/, gopath/, gopath/pkg/mod, cache/go-build under it).
go_env() {
    local world=$1 proxy=$2
    printf '%s\n' \
        "PATH=$PATH" \
        "HOME=$world/home" \
        "GOPATH=$world/gopath" \
        "GOMODCACHE=${GOMODCACHE_OVERRIDE:-$world/gopath/pkg/mod}" \
        "GOCACHE=$world/home/.cache/go-build" \
        "GOPROXY=file://$proxy" \
        "GOSUMDB=off" \
        "GONOSUMDB=" "GONOSUMCHECK=" "GOPRIVATE=" "GONOPROXY=" "GOINSECURE=" \
        "GOFLAGS=-mod=mod" \
        "GOTOOLCHAIN=local" \
        "GOENV=off" \
        "GOWORK=off" \
        "GO111MODULE=on" \
        "GOTELEMETRY=off" \
        "CGO_ENABLED=0" \
        "TMPDIR=${TMPDIR:-/tmp}"
}

# run_go WORLD PROXY_DIR [DIR] -- go ARGS...: runs real go in the hermetic env
# (cleared environment), in DIR if given.
run_go() {
    local world=$1 proxy=$2
    shift 2
    local dir=.
    if [[ $1 != -- ]]; then
        dir=$1
        shift
    fi
    [[ $1 == -- ]] && shift
    mkdir -p "$world/home/.cache/go-build" "$world/gopath"
    local -a envs
    mapfile -t envs < <(go_env "$world" "$proxy")
    (cd "$dir" && env -i "${envs[@]}" "$@")
}

# make_writable DIR: Go extracts module trees read-only; rm needs write bits.
make_writable() {
    [[ -e $1 ]] && chmod -R u+w "$1" 2>/dev/null || true
}

rm_tree() {
    make_writable "$1"
    rm -rf "$1"
}

# --- gokeep build ------------------------------------------------------------

# build_gokeep: release build; sets GOKEEP to the binary. GOKEEP_BIN skips it.
build_gokeep() {
    if [[ -n ${GOKEEP_BIN:-} ]]; then
        # Absolute: the scripts run it from other directories.
        GOKEEP=$(realpath -- "$GOKEEP_BIN") || die "GOKEEP_BIN=$GOKEEP_BIN does not exist"
        [[ -x $GOKEEP ]] || die "GOKEEP_BIN=$GOKEEP_BIN is not an executable"
        log "using prebuilt gokeep: $GOKEEP"
        return 0
    fi
    require_tools cargo
    local target=${CARGO_TARGET_DIR:-$REPO/target}
    log "cargo build --release (target dir $target)"
    (cd "$REPO" && CARGO_TARGET_DIR=$target cargo build --release --quiet) || die "cargo build --release failed"
    GOKEEP=$target/release/gokeep
    [[ -x $GOKEEP ]] || die "no binary at $GOKEEP after the build"
}

# has_subcommand NAME: true when `gokeep NAME --help` works.
has_subcommand() {
    "$GOKEEP" "$1" --help >/dev/null 2>&1
}

# has_flag SUBCOMMAND FLAG: true when FLAG appears in the subcommand's --help.
has_flag() {
    "$GOKEEP" "$1" --help 2>/dev/null | grep -q -- "$2"
}

# --- timing ------------------------------------------------------------------

# time_cmd OUT_PREFIX CMD...: runs CMD under GNU time; writes max RSS (KiB)
# to OUT_PREFIX.rss, CPU seconds (user + sys, children included) to
# OUT_PREFIX.cpu, exit status to OUT_PREFIX.rc, stdout+stderr of CMD to
# OUT_PREFIX.out. Returns CMD's status.
time_cmd() {
    local out=$1
    shift
    local rc=0
    /usr/bin/time -f '%M %U %S' -o "$out.time" "$@" >"$out.out" 2>&1 || rc=$?
    # GNU time prefixes "Command exited with non-zero status N" on failure,
    # so read the last line. Wall time comes from our own clock (timed).
    local rss user sys
    read -r rss user sys < <(tail -n 1 "$out.time")
    echo "$rss" >"$out.rss"
    awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f\n", u + s }' >"$out.cpu"
    echo "$rc" >"$out.rc"
    return "$rc"
}

# timed OUT_PREFIX CMD...: time_cmd plus wall seconds (ns clock) in OUT_PREFIX.wall.
timed() {
    local out=$1
    shift
    local t0 t1 rc=0
    t0=$(date +%s%N)
    time_cmd "$out" "$@" || rc=$?
    t1=$(date +%s%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }' >"$out.wall"
    return "$rc"
}

# parse_bench_args "$@": the options every timing script takes
# (--prepare-only, --rounds N, --help); sets PREPARE_ONLY and ROUNDS.
parse_bench_args() {
    PREPARE_ONLY=0
    while (($#)); do
        case $1 in
        --prepare-only) PREPARE_ONLY=1 ;;
        --rounds) ROUNDS=$2; shift ;;
        --rounds=*) ROUNDS=${1#*=} ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (try --help)" ;;
        esac
        shift
    done
    [[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, got '$ROUNDS'"
}

# record TAG OUT_PREFIX: appends what `timed OUT_PREFIX` measured to the
# arrays T_TAG (wall), C_TAG (CPU) and RSS_TAG (max RSS).
record() {
    local -n wall=T_$1 cpu=C_$1 rss=RSS_$1
    wall+=("$(cat "$2.wall")")
    cpu+=("$(cat "$2.cpu")")
    rss+=("$(cat "$2.rss")")
}

# median NUMBERS...: prints the median (mean of the middle two when even).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

max_of() { printf '%s\n' "$@" | sort -g | tail -n 1; }

# ratio A B: A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "inf"; else printf "%.2f\n", a / b }'; }

# human BYTES: 1.23 GB style (decimal units, as du --si).
human() {
    awk -v b="$1" 'BEGIN { split("B kB MB GB TB", u, " "); i = 1; while (b >= 1000 && i < 5) { b /= 1000; i++ }
        printf (i == 1 ? "%d %s" : "%.2f %s"), b, u[i] }'
}

# kib_to_mb KIB
kib_to_mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k * 1024 / 1e6 }'; }

# verdict VALUE TARGET: "met" / "NOT met" for VALUE >= TARGET.
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v >= t ? "met" : "NOT met") }'; }

# apparent_bytes DIR...: sum of file sizes (no block rounding, no symlinks).
apparent_bytes() {
    find "$@" -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { printf "%d\n", s }'
}

file_count() {
    find "$@" -type f 2>/dev/null | wc -l
}

# disk_check DIR NEED_BYTES: dies when DIR's file system has less free space.
disk_check() {
    local avail
    avail=$(df -B1 --output=avail "$1" | tail -n 1 | tr -d ' ')
    if ((avail < $2)); then
        die "need $(human "$2") free under $1, have $(human "$avail") (set BENCH_DIR elsewhere)"
    fi
}

machine_line() {
    printf 'machine: %s cores, load %s, %s, %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
        "$(go version 2>/dev/null | cut -d' ' -f3-)" "$(uname -r)"
}

# --- fixtures ----------------------------------------------------------------

# fixture_ready DIR KEY [PATH...]: true when DIR was completed with the same
# KEY (the generation parameters) and every PATH still exists;
# fixture_done DIR KEY marks it complete.
fixture_ready() {
    local dir=$1 key=$2 p
    shift 2
    [[ -f $dir/.complete && $(cat "$dir/.complete") == "$key" ]] || return 1
    for p in "$@"; do
        [[ -e $p ]] || return 1
    done
}
fixture_done() { printf '%s' "$2" >"$1/.complete"; }

# generator_id: changes whenever gen_proxy.py changes, so fixtures made by an
# older generator are regenerated rather than silently reused.
generator_id() { sha256sum "$BENCH_LIB_DIR/gen_proxy.py" | cut -c1-12; }

# round_ratios A_TIMES B_TIMES: per-round A/B ratios (same round = same
# machine conditions), space separated; A_TIMES and B_TIMES are array names.
round_ratios() {
    local -n _a=$1 _b=$2
    local i out=()
    for i in "${!_a[@]}"; do
        [[ -n ${_b[$i]:-} ]] && out+=("$(ratio "${_a[$i]}" "${_b[$i]}")")
    done
    echo "${out[*]}"
}
