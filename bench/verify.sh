#!/usr/bin/env bash
# bench/verify.sh: `gokeep verify` against `go mod verify` on the same module
# cache, in the same run, plus gokeep's hashing throughput against the
# machine's SHA-256 limit (2 cores x single-core SHA-256, measured here).
#
# Fixture (generated once, cached under $BENCH_DIR/verify, reused while its
# parameters stay the same): gen_proxy.py writes a file:// GOPROXY with
# VERIFY_MODULES x VERIFY_VERSIONS module versions (major-version scheme, so
# every version is its own module path and all of them are in the consumer's
# build list: `go mod verify` checks every one), then real `go mod download
# all` downloads and extracts them into a hermetic GOMODCACHE.
#
# Measurement: hot page cache (one untimed run of each tool first), ROUNDS
# (default 3) rounds alternating which tool goes first, median wall time.
# gokeep runs with --full (every version hashed, as go mod verify does); then,
# when gokeep has --full, ROUNDS more runs without it time the incremental
# verify of the unchanged cache (nothing hashed, every file stat'ed).
#
# Usage: bench/verify.sh [--prepare-only] [--rounds N]
# Environment: BENCH_DIR (default /tmp/gokeep-bench), ROUNDS, GOKEEP_BIN (skip
# the cargo release build), CARGO_TARGET_DIR, VERIFY_MODULES (130),
# VERIFY_VERSIONS (4), VERIFY_FILES (60 small files per version),
# VERIFY_PROJECT (1: gokeep also checks the consumer's go.sum; 0: cache only),
# VERIFY_FILE_SIZE (3k), VERIFY_LARGE_FILES (2), VERIFY_LARGE_SIZE (640k).
# Exit: 0 measured, 2 usage/setup error, 4 gokeep has no `verify` yet.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

parse_bench_args "$@"

MODULES=${VERIFY_MODULES:-130}
VERSIONS=${VERIFY_VERSIONS:-4}
FILES=${VERIFY_FILES:-60}
FILE_SIZE=${VERIFY_FILE_SIZE:-3k}
LARGE_FILES=${VERIFY_LARGE_FILES:-2}
LARGE_SIZE=${VERIFY_LARGE_SIZE:-640k}
MIN_VERSIONS=500
MIN_BYTES=1000000000

require_tools go python3 find awk sort
ensure_gnu_time

FIX=$BENCH_DIR/verify
GEN=$FIX/gen
WORLD=$FIX/world
MODCACHE=$WORLD/gopath/pkg/mod
KEY="v1 gen=$(generator_id) modules=$MODULES versions=$VERSIONS files=$FILES file_size=$FILE_SIZE large=$LARGE_FILES x $LARGE_SIZE $(go version)"

# --- fixture -----------------------------------------------------------------
if fixture_ready "$FIX" "$KEY" "$MODCACHE/cache/download" "$GEN/consumer/go.sum"; then
    log "reusing fixture $FIX"
else
    mkdir -p "$FIX"
    disk_check "$FIX" $((4 * MIN_BYTES))
    log "generating $MODULES x $VERSIONS module versions under $GEN"
    rm -f "$FIX/.complete"
    rm_tree "$WORLD"
    python3 "$BENCH_LIB_DIR/gen_proxy.py" --out "$GEN" --modules "$MODULES" --versions "$VERSIONS" \
        --scheme major --files-per-version "$FILES" --file-size "$FILE_SIZE" \
        --large-files "$LARGE_FILES" --large-size "$LARGE_SIZE" --seed 4
    log "go mod download all (real go fills the module cache)"
    run_go "$WORLD" "$GEN/proxy" "$GEN/consumer" -- go mod download all ||
        die "go mod download all failed"
    fixture_done "$FIX" "$KEY"
fi

mapfile -t GO_ENV < <(go_env "$WORLD" "$GEN/proxy")
versions=$(find "$MODCACHE/cache/download" -name '*.ziphash' | wc -l)
zip_bytes=$(find "$MODCACHE/cache/download" -type f -name '*.zip' -printf '%s\n' | awk '{ s += $1 } END { printf "%d\n", s }')
tree_bytes=$(find "$MODCACHE" -path "$MODCACHE/cache" -prune -o -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d\n", s }')
tree_files=$(find "$MODCACHE" -path "$MODCACHE/cache" -prune -o -type f -print | wc -l)
io_bytes=$((zip_bytes + tree_bytes))
# Every file's content is checked twice: read out of the zip (inflated,
# CRC-32 and SHA-256, against .ziphash) and in the extracted tree (against
# the same .ziphash). go mod verify hashes both copies; gokeep hashes the zip
# and compares each tree file with its verified entry byte for byte, which
# proves the same h1: at half the SHA-256 work.
checked_bytes=$((2 * tree_bytes))
sha_bytes=$tree_bytes

log "cache: $versions module versions, zips $(human "$zip_bytes"), trees $(human "$tree_bytes") in $tree_files files"
((versions >= MIN_VERSIONS)) || log "WARNING: only $versions module versions (acceptance wants >= $MIN_VERSIONS)"
((io_bytes >= MIN_BYTES)) || log "WARNING: zips+trees are $(human "$io_bytes") (acceptance wants >= 1 GB)"

if ((PREPARE_ONLY)); then
    log "fixture ready: GOMODCACHE=$MODCACHE consumer=$GEN/consumer"
    exit 0
fi

OUT=$(mktemp -d "${TMPDIR:-/tmp}/gokeep-bench-verify.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

# --- single-core SHA-256 ------------------------------------------------------
sha256_single_core() {
    local bps
    if command -v openssl >/dev/null 2>&1; then
        bps=$(openssl speed -evp sha256 -bytes 65536 -seconds 3 2>/dev/null |
            awk '$1 == "sha256" { v = $2; sub(/k$/, "", v); printf "%d\n", v * 1000 }')
        if [[ -n $bps && $bps -gt 0 ]]; then
            echo "$bps openssl-speed"
            return
        fi
    fi
    # Fallback: sha256sum over 1 GiB in the page cache.
    local f=$OUT/sha-input
    head -c $((1 << 30)) /dev/urandom >"$f"
    sha256sum "$f" >/dev/null
    local t0 t1
    t0=$(date +%s%N)
    sha256sum "$f" >/dev/null
    t1=$(date +%s%N)
    rm -f "$f"
    awk -v n=$((1 << 30)) -v a="$t0" -v b="$t1" 'BEGIN { printf "%d sha256sum\n", n / ((b - a) / 1e9) }'
}

# --- tools under test ----------------------------------------------------------
GOKEEP_OK=1
build_gokeep
if ! has_subcommand verify; then
    GOKEEP_OK=0
fi
# By default gokeep also checks the consumer's go.sum against the cache
# (--project), work go mod verify does not do: the comparison is conservative.
# VERIFY_PROJECT=0 checks the cache only, exactly what go mod verify covers.
GK_ARGS=(verify --modcache "$MODCACHE")
INCREMENTAL=0
if ((GOKEEP_OK)); then
    if [[ ${VERIFY_PROJECT:-1} != 0 ]] && has_flag verify --project; then
        GK_ARGS+=(--project "$GEN/consumer")
    elif has_flag verify --no-project; then
        GK_ARGS+=(--no-project)
    fi
    has_flag verify --full && INCREMENTAL=1
fi
# What verify remembers between runs lives in this run's own state directory.
GK_ENV=("${GO_ENV[@]}" "GOKEEP_STATE_DIR=$OUT/state")
FULL=()
((INCREMENTAL)) && FULL=(--full)
gokeep_verify() {
    (cd "$FIX" && env -i "${GK_ENV[@]}" "$GOKEEP" "${GK_ARGS[@]}" "${FULL[@]}")
}
gokeep_cmd=(env -i "${GK_ENV[@]}" "$GOKEEP" "${GK_ARGS[@]}" "${FULL[@]}" --quiet)
gokeep_incr_cmd=(env -i "${GK_ENV[@]}" "$GOKEEP" "${GK_ARGS[@]}" --quiet)
go_cmd=(env -i "${GO_ENV[@]}" go mod verify)

log "warm-up: go mod verify (untimed; fills the page cache)"
if ! (cd "$GEN/consumer" && "${go_cmd[@]}") >"$OUT/go-warm.out" 2>&1; then
    cat "$OUT/go-warm.out" >&2
    die "go mod verify fails on the clean fixture"
fi
if ((GOKEEP_OK)); then
    log "warm-up: gokeep verify (untimed)"
    rc=0
    gokeep_verify >"$OUT/gk-warm.out" 2>&1 || rc=$?
    if ((rc != 0)); then
        log "NOTE: gokeep verify exited $rc on a cache go mod verify accepts; its output:"
        head -n 40 "$OUT/gk-warm.out" >&2
    fi
fi

log "single-core SHA-256 throughput"
read -r sha_bps sha_how < <(sha256_single_core)
limit_bps=$((2 * sha_bps))

declare -a T_GK=() T_GO=() C_GK=() C_GO=() RSS_GK=() RSS_GO=()
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= ROUNDS; r++)); do
    order=(go gokeep)
    ((r % 2)) && order=(gokeep go)
    for tool in "${order[@]}"; do
        if [[ $tool == go ]]; then
            (cd "$GEN/consumer" && timed "$OUT/go.$r" "${go_cmd[@]}") || {
                cat "$OUT/go.$r.out" >&2
                die "go mod verify failed in round $r"
            }
            record GO "$OUT/go.$r"
            log "round $r: go mod verify      $(cat "$OUT/go.$r.wall") s"
        elif ((GOKEEP_OK)); then
            rc=0
            (cd "$FIX" && timed "$OUT/gk.$r" "${gokeep_cmd[@]}") || rc=$?
            ((rc <= 1)) || {
                cat "$OUT/gk.$r.out" >&2
                die "gokeep verify failed (exit $rc) in round $r"
            }
            record GK "$OUT/gk.$r"
            log "round $r: gokeep verify      $(cat "$OUT/gk.$r.wall") s (exit $rc)"
        fi
    done
done
declare -a T_GI=() C_GI=() RSS_GI=()
if ((INCREMENTAL)); then
    # The full runs above remembered every version: nothing changed since.
    for ((r = 1; r <= ROUNDS; r++)); do
        rc=0
        (cd "$FIX" && timed "$OUT/gi.$r" "${gokeep_incr_cmd[@]}") || rc=$?
        ((rc <= 1)) || {
            cat "$OUT/gi.$r.out" >&2
            die "incremental gokeep verify failed (exit $rc) in round $r"
        }
        record GI "$OUT/gi.$r"
        log "round $r: gokeep verify (incremental)  $(cat "$OUT/gi.$r.wall") s (exit $rc)"
    done
    (cd "$FIX" && env -i "${GK_ENV[@]}" "$GOKEEP" "${GK_ARGS[@]}" --json) >"$OUT/gi.json" 2>/dev/null || true
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

go_med=$(median "${T_GO[@]}")
echo
echo "== bench/verify.sh: gokeep verify vs go mod verify =="
machine_line
echo "load average before/after: $load_before / $load_after"
echo "cache: $versions module versions ($versions in go mod verify's build list), $tree_files files in trees"
echo "       zips $(human "$zip_bytes") + trees $(human "$tree_bytes") = $(human "$io_bytes") apparent"
echo "rounds: $ROUNDS (hot page cache, median wall time)"
printf 'go mod verify:  median %6.3f s wall  (runs: %s)  CPU %s s  max RSS %s\n' "$go_med" "${T_GO[*]}" \
    "$(median "${C_GO[@]}")" "$(kib_to_mb "$(max_of "${RSS_GO[@]}")")"
sha_line=$(printf 'SHA-256 single core (%s): %s/s; limit 2 x single core = %s/s' "$sha_how" "$(human "$sha_bps")" "$(human "$limit_bps")")

if ((!GOKEEP_OK)); then
    echo "$sha_line"
    echo
    echo "gokeep at $GOKEEP has no 'verify' subcommand yet:"
    echo "  it has not landed on this branch. Merge the branch that adds it (git -C $REPO log --oneline),"
    echo "  then run bench/verify.sh again; the fixture above is kept in $FIX and reused."
    exit 4
fi

gk_med=$(median "${T_GK[@]}")
speedup=$(ratio "$go_med" "$gk_med")
printf 'gokeep verify%s:  median %6.3f s wall  (runs: %s)  CPU %s s  max RSS %s\n' "${FULL[*]:+ --full}" "$gk_med" "${T_GK[*]}" \
    "$(median "${C_GK[@]}")" "$(kib_to_mb "$(max_of "${RSS_GK[@]}")")"
per_round=$(round_ratios T_GO T_GK)
# shellcheck disable=SC2086
echo "per-round speed-ups (same conditions within a round): $per_round; median $(median $per_round)x"
echo "speed-up: ${speedup}x faster than go mod verify (wall)   (target >= 2x: $(verdict "$speedup" 2))"
echo "          $(ratio "$(median "${C_GO[@]}")" "$(median "${C_GK[@]}")")x less CPU (user+sys; less sensitive to other load)"
echo "$sha_line"
if ((INCREMENTAL)); then
    gi_med=$(median "${T_GI[@]}")
    printf 'gokeep verify, incremental (cache unchanged since the full runs): median %6.3f s wall  (runs: %s)  CPU %s s  max RSS %s\n' \
        "$gi_med" "${T_GI[*]}" "$(median "${C_GI[@]}")" "$(kib_to_mb "$(max_of "${RSS_GI[@]}")")"
    gi_counts=$(python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))["modcache"]
print(m["versions_hashed"], "hashed,", m["versions_unchanged"], "unchanged,", m["bytes_hashed"], "bytes hashed")' "$OUT/gi.json" 2>/dev/null || echo "counts unavailable")
    echo "          $(ratio "$gk_med" "$gi_med")x faster than the full gokeep verify ($gi_counts)"
fi
gk_cpu=$(median "${C_GK[@]}")
frac() { awk -v b="$1" -v t="$2" -v l="$3" 'BEGIN { printf "%.4f\n", b / t / l }'; }
pct() { awk -v f="$1" 'BEGIN { printf "%.1f", f * 100 }'; }
checked_frac=$(frac "$checked_bytes" "$gk_med" "$limit_bps")
checked_cpu_frac=$(frac "$checked_bytes" "$gk_cpu" "$sha_bps")
sha_frac=$(frac "$sha_bytes" "$gk_med" "$limit_bps")
io_frac=$(frac "$io_bytes" "$gk_med" "$limit_bps")
echo "gokeep verification throughput (content checked: zip contents inflated + trees = $(human "$checked_bytes")):"
echo "  $(human "$(awk -v b="$checked_bytes" -v t="$gk_med" 'BEGIN { printf "%d", b / t }')")/s = $(pct "$checked_frac") % of the limit   (target >= 80 %: $(verdict "$checked_frac" 0.8))"
echo "  by CPU time (an unloaded 2-core machine): $(pct "$checked_cpu_frac") % of the limit"
echo "  of which SHA-256 input: the zip contents, $(human "$sha_bytes") ($(pct "$sha_frac") % of the limit); tree files"
echo "  identical to their verified zip entry are compared byte for byte instead (go mod verify hashes both)"
echo "  both tools also inflate the $(human "$tree_bytes") of zip contents (Deflate), which the limit does not count"
echo "gokeep read throughput (zips + trees apparent = $(human "$io_bytes")): $(pct "$io_frac") % of the limit"
if [[ $(cat "$OUT/gk.1.rc") != 0 ]]; then
    echo "NOTE: gokeep verify reported findings (exit $(cat "$OUT/gk.1.rc")) on a cache go mod verify accepts:"
    head -n 20 "$OUT/gk.1.out"
fi
