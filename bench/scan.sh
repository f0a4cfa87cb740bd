#!/usr/bin/env bash
# Times `gokeep status --json` against `du -sb` and `du -sB1` on the same
# large synthetic Go caches, in the same run, with a hot page cache.
#
# The module cache has the shape of a real one: thousands of
# `<module>@<version>/` trees of small Go files (read-only, as Go leaves
# them), plus `cache/download/<module>/@v/` with .info, .mod, .zip, .ziphash
# and .lock per version. The build cache is small: 256 shards of -a/-d entries.
#
# Usage: bench/scan.sh            (BENCH_DIR=/tmp/gokeep-bench by default)
#   BENCH_DIR=dir  where to generate (reused if already there)
#   FILES=N        files to aim for in the module cache (default 220000)
#   ROUNDS=N       timed rounds per tool (default 7, at least 5)
# Prints a table of median times, the gokeep/du ratios and gokeep's max RSS.
set -euo pipefail

cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-/tmp/gokeep-bench}
FILES=${FILES:-220000}
ROUNDS=${ROUNDS:-7}
((ROUNDS >= 5)) || ROUNDS=5
MODCACHE=$BENCH_DIR/modcache
GOCACHE_DIR=$BENCH_DIR/gocache

if [[ ! -x /usr/bin/time ]]; then
    echo "installing GNU time for max RSS" >&2
    apt-get install -y time >/dev/null
fi

if [[ ! -f $BENCH_DIR/.complete-$FILES ]]; then
    echo "generating ~$FILES files under $BENCH_DIR ..." >&2
    # Only this script's fixture: BENCH_DIR also holds verify.sh's and
    # prune.sh's fixtures.
    for d in "$MODCACHE" "$GOCACHE_DIR"; do
        if [[ -d $d ]]; then
            chmod -R u+w "$d"
            rm -rf "$d"
        fi
    done
    rm -f "$BENCH_DIR"/.complete-*
    mkdir -p "$MODCACHE" "$GOCACHE_DIR"
    python3 bench/gen_scan.py "$MODCACHE" "$GOCACHE_DIR" "$FILES"
    touch "$BENCH_DIR/.complete-$FILES"
fi

echo "building gokeep --release ..." >&2
cargo build --release --quiet
GOKEEP=${CARGO_TARGET_DIR:-target}/release/gokeep

mod_files=$(find "$MODCACHE" -type f | wc -l)
gc_files=$(find "$GOCACHE_DIR" -type f | wc -l)
echo "module cache: $mod_files files; build cache: $gc_files files; $(nproc) cores; $ROUNDS rounds" >&2

declare -A CMDS=(
    [gokeep]="$GOKEEP status --json --modcache $MODCACHE --gocache $GOCACHE_DIR"
    [du_sb]="du -sb $MODCACHE $GOCACHE_DIR"
    [du_sB1]="du -sB1 $MODCACHE $GOCACHE_DIR"
)
ORDER=(gokeep du_sb du_sB1)

# Hot cache: one untimed run of each first.
for k in "${ORDER[@]}"; do ${CMDS[$k]} >/dev/null; done

# Wall time is what the target is about; CPU time (user + sys) is printed
# too because it does not depend on what else runs on the machine.
declare -A TIMES CPU
cpu_file=$(mktemp)
trap 'rm -f "$cpu_file"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 0; r < ROUNDS; r++)); do
    for k in "${ORDER[@]}"; do
        t0=$(date +%s%N)
        /usr/bin/time -f "%U %S" -o "$cpu_file" ${CMDS[$k]} >/dev/null
        t1=$(date +%s%N)
        TIMES[$k]+="$(((t1 - t0) / 1000)) "
        CPU[$k]+="$(awk '{printf "%d", ($1 + $2) * 1e6}' "$cpu_file") "
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A MED MEDCPU
printf '\n%-8s %10s %10s   %s\n' tool "wall (s)" "cpu (s)" "wall, all rounds (ms)"
for k in "${ORDER[@]}"; do
    MED[$k]=$(median <<<"${TIMES[$k]}")
    MEDCPU[$k]=$(median <<<"${CPU[$k]}")
    all=$(tr ' ' '\n' <<<"${TIMES[$k]}" | grep -v '^$' | awk '{printf "%d ", $1/1000}')
    printf '%-8s %10.3f %10.3f   %s\n' "$k" "$(awk "BEGIN{print ${MED[$k]}/1e6}")" \
        "$(awk "BEGIN{print ${MEDCPU[$k]}/1e6}")" "$all"
done
echo "load average before: $load_before; after: $load_after (medians)"

# Same totals, or the comparison means nothing.
gk_json=$($GOKEEP status --json --modcache "$MODCACHE" --gocache "$GOCACHE_DIR")
gk_sum=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(c["apparent_bytes"] for c in d["caches"]))' <<<"$gk_json")
du_sum=$(du -sb "$MODCACHE" "$GOCACHE_DIR" | awk '{s+=$1} END {print s}')
rss_kb=$(/usr/bin/time -v ${CMDS[gokeep]} 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}')

printf '\nratio gokeep/du -sb : %.2f   (target <= 0.60)\n' "$(awk "BEGIN{print ${MED[gokeep]}/${MED[du_sb]}}")"
printf 'ratio gokeep/du -sB1: %.2f\n' "$(awk "BEGIN{print ${MED[gokeep]}/${MED[du_sB1]}}")"
printf 'cpu ratio gokeep/du -sb: %.2f (user + sys, all threads)\n' "$(awk "BEGIN{print ${MEDCPU[gokeep]}/${MEDCPU[du_sb]}}")"
printf 'gokeep max RSS      : %.1f MB (target < 64 MB)\n' "$(awk "BEGIN{print $rss_kb/1024}")"
printf 'apparent bytes      : gokeep %s, du -sb %s (%s)\n' "$gk_sum" "$du_sum" \
    "$([[ $gk_sum == "$du_sum" ]] && echo equal || echo DIFFERENT)"
