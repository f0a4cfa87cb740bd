#!/usr/bin/env bash
# bench/prune.sh: `gokeep prune --all --yes` against `go clean -modcache` on
# two copies of the same large module cache, in the same run.
#
# Fixture (generated once, cached under $BENCH_DIR/prune, reused while its
# parameters stay the same): gen_proxy.py writes a file:// GOPROXY with
# PRUNE_MODULES modules x PRUNE_VERSIONS versions each (v1.0.0, v1.1.0, ...),
# PRUNE_FILES small files per version; real `go mod download` fetches and
# extracts every version into a hermetic GOMODCACHE (>= 100,000 files).
#
# Each round: `cp -a` the cache twice and `sync` (not timed), then time
# `gokeep prune --all --yes --modcache COPY1` and `go clean -modcache` with
# GOMODCACHE=COPY2, alternating which goes first. ROUNDS (default 3) rounds,
# median wall time, max RSS of each tool, files each left behind.
#
# Usage: bench/prune.sh [--prepare-only] [--rounds N]
# Environment: BENCH_DIR (default /tmp/gokeep-bench), ROUNDS, GOKEEP_BIN (skip
# the cargo release build), CARGO_TARGET_DIR, PRUNE_MODULES (100),
# PRUNE_VERSIONS (10), PRUNE_FILES (95), PRUNE_FILE_SIZE (1k), PRUNE_SUBDIRS (8).
# Exit: 0 measured, 2 usage/setup error, 4 gokeep has no `prune --all` yet.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

parse_bench_args "$@"

MODULES=${PRUNE_MODULES:-100}
VERSIONS=${PRUNE_VERSIONS:-10}
FILES=${PRUNE_FILES:-95}
FILE_SIZE=${PRUNE_FILE_SIZE:-1k}
SUBDIRS=${PRUNE_SUBDIRS:-8}
MIN_FILES=100000

require_tools go python3 find awk sort cp xargs
ensure_gnu_time

FIX=$BENCH_DIR/prune
GEN=$FIX/gen
WORLD=$FIX/world
MODCACHE=$WORLD/gopath/pkg/mod
COPIES=$FIX/copies
KEY="v1 gen=$(generator_id) modules=$MODULES versions=$VERSIONS files=$FILES file_size=$FILE_SIZE subdirs=$SUBDIRS $(go version)"

# --- fixture -----------------------------------------------------------------
if fixture_ready "$FIX" "$KEY" "$MODCACHE/cache/download" "$GEN/proxy"; then
    log "reusing fixture $FIX"
else
    mkdir -p "$FIX"
    disk_check "$FIX" $((3 * 1000 * 1000 * 1000))
    rm -f "$FIX/.complete"
    rm_tree "$WORLD"
    rm_tree "$COPIES"
    log "generating $MODULES modules x $VERSIONS versions x $FILES files under $GEN"
    python3 "$BENCH_LIB_DIR/gen_proxy.py" --out "$GEN" --modules "$MODULES" --versions "$VERSIONS" \
        --scheme minor --files-per-version "$FILES" --file-size "$FILE_SIZE" --subdirs "$SUBDIRS" --large-files 0 --seed 5
    log "go mod download of every version (real go fills the module cache)"
    mkdir -p "$FIX/empty"
    mapfile -t envs < <(go_env "$WORLD" "$GEN/proxy")
    mkdir -p "$WORLD/home/.cache/go-build"
    # Outside any module: go mod download takes explicit module@version args.
    (cd "$FIX/empty" && xargs -a "$GEN/versions.txt" env -i "${envs[@]}" go mod download) ||
        die "go mod download failed"
    fixture_done "$FIX" "$KEY"
fi

files=$(file_count "$MODCACHE")
dirs=$(find "$MODCACHE" -type d | wc -l)
bytes=$(apparent_bytes "$MODCACHE")
disk=$(du -s -B1 "$MODCACHE" | cut -f1)
versions=$(find "$MODCACHE/cache/download" -name '*.ziphash' | wc -l)
log "cache: $versions module versions, $files files, $dirs dirs, $(human "$bytes") apparent, $(human "$disk") on disk"
((files >= MIN_FILES)) || log "WARNING: only $files files (acceptance wants >= $MIN_FILES)"

if ((PREPARE_ONLY)); then
    log "fixture ready: GOMODCACHE=$MODCACHE"
    exit 0
fi
disk_check "$FIX" $((2 * disk + 200 * 1000 * 1000))

OUT=$(mktemp -d "${TMPDIR:-/tmp}/gokeep-bench-prune.XXXXXX")
cleanup() {
    rm -rf "$OUT"
    rm_tree "$COPIES"
}
trap cleanup EXIT

build_gokeep
if ! has_subcommand prune || ! has_flag prune --all; then
    echo
    echo "gokeep at $GOKEEP has no 'prune --all' yet: it has not landed on this branch."
    echo "Merge the branch that adds it (git -C $REPO log --oneline), then run bench/prune.sh again;"
    echo "the fixture ($files files) is kept in $FIX and reused."
    exit 4
fi

mkdir -p "$FIX/empty"
GK_COPY=$COPIES/gokeep/mod
GO_COPY=$COPIES/go/mod
mapfile -t GK_ENV < <(go_env "$COPIES/gokeep/world" "$GEN/proxy")
mapfile -t GO_ENV < <(GOMODCACHE_OVERRIDE=$GO_COPY go_env "$COPIES/go/world" "$GEN/proxy")
gokeep_cmd=(env -i "${GK_ENV[@]}" "$GOKEEP" prune --all --yes --quiet --modcache "$GK_COPY")
go_cmd=(env -i "${GO_ENV[@]}" go clean -modcache)

fresh_copies() {
    rm_tree "$COPIES"
    mkdir -p "$COPIES/gokeep/world/home" "$COPIES/go/world/home"
    # Two cores, two copies: in parallel. Then flush them to disk, so both
    # tools delete files that are on disk, as in a real cache.
    cp -a "$MODCACHE" "$GK_COPY" &
    local p1=$!
    cp -a "$MODCACHE" "$GO_COPY" || die "cp -a failed"
    wait "$p1" || die "cp -a failed"
    sync
}

# left_behind DIR: files (of any type) still under DIR, or 0 when DIR is gone.
left_behind() {
    if [[ -e $1 ]]; then find "$1" -mindepth 1 ! -type d | wc -l; else echo 0; fi
}

# left_kinds DIR: what is left, counted by file name suffix ("42 .lock, 3 list").
left_kinds() {
    [[ -e $1 ]] || return 0
    find "$1" -mindepth 1 ! -type d -printf '%f\n' | sed -E 's/^[^.]*$/&/; s/.*(\.[^.]+)$/\1/' |
        sort | uniq -c | sort -rn | head -n 5 | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }'
}
KINDS_GK="" KINDS_GO=""

declare -a T_GK=() T_GO=() C_GK=() C_GO=() RSS_GK=() RSS_GO=() LEFT_GK=() LEFT_GO=()
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= ROUNDS; r++)); do
    log "round $r: copying the cache twice and syncing (not timed)"
    t0=$(date +%s)
    fresh_copies
    log "round $r: copies ready in $(($(date +%s) - t0)) s"
    order=(go gokeep)
    ((r % 2)) && order=(gokeep go)
    for tool in "${order[@]}"; do
        if [[ $tool == go ]]; then
            (cd "$FIX/empty" && timed "$OUT/go.$r" "${go_cmd[@]}") || {
                cat "$OUT/go.$r.out" >&2
                die "go clean -modcache failed in round $r"
            }
            record GO "$OUT/go.$r"
            LEFT_GO+=("$(left_behind "$GO_COPY")")
            ((r == 1)) && KINDS_GO=$(left_kinds "$GO_COPY")
            log "round $r: go clean -modcache      $(cat "$OUT/go.$r.wall") s"
        else
            (cd "$FIX/empty" && timed "$OUT/gk.$r" "${gokeep_cmd[@]}") || {
                cat "$OUT/gk.$r.out" >&2
                die "gokeep prune --all failed (exit $(cat "$OUT/gk.$r.rc")) in round $r"
            }
            record GK "$OUT/gk.$r"
            LEFT_GK+=("$(left_behind "$GK_COPY")")
            ((r == 1)) && KINDS_GK=$(left_kinds "$GK_COPY")
            log "round $r: gokeep prune --all      $(cat "$OUT/gk.$r.wall") s"
        fi
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

go_med=$(median "${T_GO[@]}")
gk_med=$(median "${T_GK[@]}")
speedup=$(ratio "$go_med" "$gk_med")
echo
echo "== bench/prune.sh: gokeep prune --all vs go clean -modcache =="
machine_line
echo "load average before/after: $load_before / $load_after"
echo "cache: $versions module versions, $files files, $dirs dirs, $(human "$bytes") apparent, $(human "$disk") on disk"
echo "rounds: $ROUNDS (fresh cp -a copies each round, copy not timed, median wall time)"
printf 'go clean -modcache:       median %6.3f s wall  (runs: %s)  CPU %s s  max RSS %s  files left: %s\n' \
    "$go_med" "${T_GO[*]}" "$(median "${C_GO[@]}")" "$(kib_to_mb "$(max_of "${RSS_GO[@]}")")" "${LEFT_GO[*]}"
printf 'gokeep prune --all --yes: median %6.3f s wall  (runs: %s)  CPU %s s  max RSS %s  files left: %s\n' \
    "$gk_med" "${T_GK[*]}" "$(median "${C_GK[@]}")" "$(kib_to_mb "$(max_of "${RSS_GK[@]}")")" "${LEFT_GK[*]}"
[[ -n $KINDS_GO ]] && echo "  go left (round 1): $KINDS_GO"
[[ -n $KINDS_GK ]] && echo "  gokeep left (round 1): $KINDS_GK"
per_round=$(round_ratios T_GO T_GK)
# shellcheck disable=SC2086
echo "per-round speed-ups (same conditions within a round): $per_round; median $(median $per_round)x"
echo "speed-up: ${speedup}x faster than go clean -modcache (wall)   (target >= 1.5x: $(verdict "$speedup" 1.5))"
echo "          $(ratio "$(median "${C_GO[@]}")" "$(median "${C_GK[@]}")")x less CPU (user+sys)"
