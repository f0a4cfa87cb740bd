#!/usr/bin/env bash
# bench/run.sh: every gokeep benchmark in one run, printed as one table.
#
# Each row times gokeep and the tool people would otherwise use, in the same
# run, ROUNDS rounds (default 3) alternating who goes first, and shows the
# ratio of the medians next to its target:
#   scan     `gokeep status --json` vs `du -sb` (and `diskus` when installed),
#            on written-directly caches of 100k, 300k and 1M files (GROW_SIZES)
#   growth   time and max RSS of `status` at each of those sizes, per file
#   verify   `gokeep verify --full` (plain `verify` before --full existed) vs
#            `go mod verify`; and the incremental case, a second plain
#            `gokeep verify` on an unchanged cache (n/a without --full)
#   wipe     `gokeep prune --all --yes` vs `go clean -modcache`
#   age      `gokeep prune --max-age <AGE_DAYS>d --yes` vs
#            `find <modcache> -mtime +<AGE_DAYS> -delete`, on copies where
#            every OLD_EVERY-th module version (10 %) was last touched
#            2 x AGE_DAYS ago
#   RSS      max RSS (GNU time %M) of every gokeep command above
#
# Fixtures, cached under BENCH_DIR and reused while their parameters match:
#   verify/  made by `bench/verify.sh --prepare-only` (real go, 520 versions)
#   prune/   made by `bench/prune.sh --prepare-only` (real go, 103k files);
#            each wipe/age round works on fresh `cp -a` copies (not timed)
#   grow/N/  made by gen_scan.py (no go), one per GROW_SIZES entry
# At the end the grow/ and prune/ fixtures are deleted (they are several GB)
# unless KEEP=1; the verify fixture is kept.
#
# Usage: bench/run.sh [--rounds N]
# Environment: BENCH_DIR (/tmp/gokeep-bench), ROUNDS (3), GOKEEP_BIN (skip the
# cargo release build), CARGO_TARGET_DIR, SECTIONS ("scan verify wipe age"),
# GROW_SIZES ("100000 300000 1000000"), AGE_DAYS (30), OLD_EVERY (10),
# KEEP (0), VERIFY_PROJECT (1: gokeep verify also checks the consumer's
# go.sum, as in verify.sh; 0: the cache only).
# Output: the table (Markdown) and footnotes on stdout, progress on stderr.
# Exit: 0 measured (targets met or not: the verdicts are in the table),
# 2 usage/setup error.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

parse_bench_args "$@"
if ((PREPARE_ONLY)); then die "run.sh has no --prepare-only; use verify.sh/prune.sh --prepare-only"; fi

SECTIONS=${SECTIONS:-scan verify wipe age}
GROW_SIZES=${GROW_SIZES:-100000 300000 1000000}
AGE_DAYS=${AGE_DAYS:-30}
OLD_EVERY=${OLD_EVERY:-10}
KEEP=${KEEP:-0}
RSS_LIMIT_KIB=$((64 * 1000 * 1000 / 1024)) # 64 MB

require_tools go python3 find awk sort cp xargs du touch
ensure_gnu_time

want() { [[ " $SECTIONS " == *" $1 "* ]]; }

OUT=$(mktemp -d "${TMPDIR:-/tmp}/gokeep-bench-run.XXXXXX")
COPIES=$BENCH_DIR/run-copies
cleanup() {
    rm_tree "$COPIES"
    rm -rf "$OUT"
}
trap cleanup EXIT

build_gokeep
has_subcommand status || die "$GOKEEP has no status subcommand"

# --- table ---------------------------------------------------------------------

ROWS=()
NOTES=()
# row MEASUREMENT FIXTURE GOKEEP REFERENCE RESULT TARGET VERDICT RSS
row() {
    local IFS='|'
    ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 |")
}
note() { NOTES+=("$*"); }

secs() { printf '%.3f s' "$1"; }
mb() { kib_to_mb "$1"; }
# at_most VALUE LIMIT / at_least VALUE LIMIT: "met" or "missed by N %".
at_most() { awk -v v="$1" -v t="$2" 'BEGIN { if (v <= t) print "met"; else printf "missed by %.0f %%\n", (v / t - 1) * 100 }'; }
at_least() { awk -v v="$1" -v t="$2" 'BEGIN { if (v >= t) print "met"; else printf "missed by %.0f %% (%gx of %gx)\n", (1 - v / t) * 100, v, t }'; }

# --- measuring -----------------------------------------------------------------

# measure TAG ARRAY [TAG ARRAY]...: ROUNDS rounds; round r starts with the
# (r mod n)-th command, so each goes first in turn. ARRAY names an array
# holding the command (external, run under GNU time). Before each round the
# function named by $PREP runs (untimed) when set. Exit statuses above
# $OK_RC (default 0) fail the run. Results: T_TAG, C_TAG, RSS_TAG.
measure() {
    local -a tags=() cmds=()
    while (($#)); do
        tags+=("$1")
        cmds+=("$2")
        shift 2
    done
    local n=${#tags[@]} r i k tag rc
    for tag in "${tags[@]}"; do
        unset "T_$tag" "C_$tag" "RSS_$tag"
        declare -ga "T_$tag" "C_$tag" "RSS_$tag"
    done
    for ((r = 1; r <= ROUNDS; r++)); do
        if [[ -n ${PREP:-} ]]; then "$PREP" "$r"; fi
        for ((k = 0; k < n; k++)); do
            i=$(((r + k) % n))
            tag=${tags[$i]}
            local -n cmd=${cmds[$i]}
            rc=0
            timed "$OUT/$tag.$r" "${cmd[@]}" || rc=$?
            if ((rc > ${OK_RC:-0})); then
                head -n 30 "$OUT/$tag.$r.out" >&2
                die "$tag failed (exit $rc) in round $r: ${cmd[*]}"
            fi
            record "$tag" "$OUT/$tag.$r"
            log "round $r: $tag $(cat "$OUT/$tag.$r.wall") s, $(mb "$(cat "$OUT/$tag.$r.rss")")"
            unset -n cmd
        done
        if [[ -n ${AFTER:-} ]]; then "$AFTER" "$r"; fi
    done
}
med() { local -n _t=T_$1; median "${_t[@]}"; }
medcpu() { local -n _c=C_$1; median "${_c[@]}"; }
maxrss() { local -n _m=RSS_$1; max_of "${_m[@]}"; }
runs() { local -n _t=T_$1; echo "${_t[*]}"; }

# warm CMD_ARRAY...: one untimed run of each (hot page cache).
warm() {
    local a
    for a in "$@"; do
        local -n c=$a
        "${c[@]}" >/dev/null 2>&1 || true
        unset -n c
    done
}

# A hermetic Go environment for commands that need none of the fixtures'.
mkdir -p "$OUT/world" "$OUT/noproxy"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u '+%Y-%m-%d %H:%M UTC')

# --- scan and growth -----------------------------------------------------------------

GEN_SCAN_ID=$(sha256sum "$BENCH_LIB_DIR/gen_scan.py" | cut -c1-12)
# grow_fixture N: prints the fixture directory for N files, generating it once.
grow_fixture() {
    local n=$1 d=$BENCH_DIR/grow/$1
    local key="v1 gen_scan=$GEN_SCAN_ID files=$n"
    if fixture_ready "$d" "$key" "$d/mod/cache/lock" "$d/gocache/trim.txt"; then
        log "reusing fixture $d"
    else
        rm_tree "$d"
        mkdir -p "$d"
        # About 5.5 kB on disk per file (4 kB blocks, zips, directories).
        disk_check "$d" $((n * 5500 + 500 * 1000 * 1000))
        log "generating $n files under $d (gen_scan.py)"
        python3 "$BENCH_LIB_DIR/gen_scan.py" "$d/mod" "$d/gocache" "$n" || die "gen_scan.py failed"
        fixture_done "$d" "$key"
    fi
    echo "$d"
}

if want scan; then
    HAVE_DISKUS=0
    if command -v diskus >/dev/null 2>&1; then HAVE_DISKUS=1; fi
    declare -a GROW_N=() GROW_T=() GROW_RSS=() GROW_FILES=()
    for n in $GROW_SIZES; do
        d=$(grow_fixture "$n")
        files=$(($(file_count "$d/mod") + $(file_count "$d/gocache")))
        mapfile -t ENV_S < <(GOMODCACHE_OVERRIDE=$d/mod go_env "$OUT/world" "$OUT/noproxy")
        gk_status=(env -i "${ENV_S[@]}" "$GOKEEP" status --json --modcache "$d/mod" --gocache "$d/gocache")
        du_sb=(du -sb "$d/mod" "$d/gocache")
        diskus_cmd=(diskus "$d/mod" "$d/gocache")
        log "scan at $n: warm-up"
        warm gk_status du_sb
        args=(status gk_status du du_sb)
        if ((HAVE_DISKUS)); then
            warm diskus_cmd
            args+=(diskus diskus_cmd)
        fi
        measure "${args[@]}"
        # Same totals, or the comparison means nothing.
        gk_sum=$("${gk_status[@]}" | python3 -c 'import json,sys; print(sum(c["apparent_bytes"] for c in json.load(sys.stdin)["caches"]))')
        du_sum=$("${du_sb[@]}" | awk '{ s += $1 } END { printf "%d\n", s }')
        [[ $gk_sum == "$du_sum" ]] || note "scan at $n files: gokeep counts $gk_sum apparent bytes, du -sb $du_sum."
        r=$(ratio "$(med status)" "$(med du)")
        label=$(awk -v n="$files" 'BEGIN { if (n >= 1e6) printf "%.2fM files", n / 1e6; else printf "%dk files", n / 1e3 }')
        row "scan: \`status --json\` vs \`du -sb\`" "$label" "$(secs "$(med status)")" "$(secs "$(med du)")" \
            "${r}x (CPU $(ratio "$(medcpu status)" "$(medcpu du)")x)" "≤ 0.5x" "$(at_most "$r" 0.5)" "$(mb "$(maxrss status)")"
        if ((HAVE_DISKUS)); then
            r=$(ratio "$(med status)" "$(med diskus)")
            row "scan: \`status --json\` vs \`diskus\`" "$label" "$(secs "$(med status)")" "$(secs "$(med diskus)")" \
                "${r}x" "—" "(no target)" ""
        fi
        GROW_N+=("$label")
        GROW_T+=("$(med status)")
        GROW_RSS+=("$(maxrss status)")
        GROW_FILES+=("$files")
        log "scan at $n: status $(runs status) / du $(runs du)"
    done
    ((HAVE_DISKUS)) || note "diskus is not installed: no diskus row."
fi

# --- verify ----------------------------------------------------------------------

if want verify; then
    log "verify fixture (bench/verify.sh --prepare-only)"
    "$BENCH_LIB_DIR/verify.sh" --prepare-only >&2 || die "verify fixture failed"
    VFIX=$BENCH_DIR/verify
    VGEN=$VFIX/gen
    VMOD=$VFIX/world/gopath/pkg/mod
    mapfile -t VENV < <(go_env "$VFIX/world" "$VGEN/proxy")
    # gokeep keeps its own state (incremental verify records) under its HOME:
    # a fresh one per run, so the fixture stays as go left it.
    mapfile -t GKENV < <(go_env "$VFIX/world" "$VGEN/proxy" | sed "s|^HOME=.*|HOME=$OUT/gkhome|")
    mkdir -p "$OUT/gkhome"
    vfiles=$(file_count "$VMOD")
    vversions=$(find "$VMOD/cache/download" -name '*.ziphash' | wc -l)
    vlabel="$vversions versions, $((vfiles / 1000))k files"
    gk_verify_args=(verify --modcache "$VMOD")
    if [[ ${VERIFY_PROJECT:-1} != 0 ]] && has_flag verify --project; then
        gk_verify_args+=(--project "$VGEN/consumer")
    else
        gk_verify_args+=(--no-project)
    fi
    HAVE_FULL=0
    if has_flag verify '--full'; then HAVE_FULL=1; fi
    go_verify=(env -i -C "$VGEN/consumer" "${VENV[@]}" go mod verify)
    if ((HAVE_FULL)); then
        gk_full=(env -i -C "$VFIX" "${GKENV[@]}" "$GOKEEP" "${gk_verify_args[@]}" --full --quiet)
    else
        gk_full=(env -i -C "$VFIX" "${GKENV[@]}" "$GOKEEP" "${gk_verify_args[@]}" --quiet)
    fi
    gk_incr=(env -i -C "$VFIX" "${GKENV[@]}" "$GOKEEP" "${gk_verify_args[@]}" --quiet)
    log "verify: warm-up (go mod verify, gokeep verify; the first plain verify also records what it checked)"
    "${go_verify[@]}" >"$OUT/go-warm.out" 2>&1 || {
        cat "$OUT/go-warm.out" >&2
        die "go mod verify fails on the clean fixture"
    }
    rc=0
    "${gk_full[@]}" >"$OUT/gk-warm.out" 2>&1 || rc=$?
    ((rc == 0)) || note "gokeep verify exited $rc on the verify fixture, which go mod verify accepts: $(head -c 300 "$OUT/gk-warm.out" | tr '\n' ' ')"
    args=(gomodverify go_verify verifyfull gk_full)
    if ((HAVE_FULL)); then
        "${gk_incr[@]}" >/dev/null 2>&1 || true
        args+=(verifyincr gk_incr)
    fi
    OK_RC=1 measure "${args[@]}"
    r=$(ratio "$(med gomodverify)" "$(med verifyfull)")
    full_label="\`verify\` (full: no --full flag yet)"
    if ((HAVE_FULL)); then full_label="\`verify --full\`"; fi
    row "verify, full: $full_label vs \`go mod verify\`" "$vlabel" "$(secs "$(med verifyfull)")" \
        "$(secs "$(med gomodverify)")" "${r}x faster (CPU $(ratio "$(medcpu gomodverify)" "$(medcpu verifyfull)")x less)" \
        "≥ 5x faster" "$(at_least "$r" 5)" "$(mb "$(maxrss verifyfull)")"
    if ((HAVE_FULL)); then
        r=$(ratio "$(med gomodverify)" "$(med verifyincr)")
        row "verify, incremental: 2nd \`verify\`, unchanged cache, vs \`go mod verify\`" "$vlabel" \
            "$(secs "$(med verifyincr)")" "$(secs "$(med gomodverify)")" "${r}x faster" "≥ 20x faster" \
            "$(at_least "$r" 20)" "$(mb "$(maxrss verifyincr)")"
    else
        row "verify, incremental: 2nd \`verify\`, unchanged cache, vs \`go mod verify\`" "$vlabel" \
            "n/a: gokeep has no incremental verify" "" "" "≥ 20x faster" "n/a" ""
    fi
    log "verify: go $(runs gomodverify) / gokeep $(runs verifyfull)"
fi

# --- wipe and age-based prune (copies of the prune fixture) ---------------------------

PMOD=$BENCH_DIR/prune/world/gopath/pkg/mod
if want wipe || want age; then
    log "prune fixture (bench/prune.sh --prepare-only)"
    "$BENCH_LIB_DIR/prune.sh" --prepare-only >&2 || die "prune fixture failed"
    has_flag prune --all || die "$GOKEEP has no prune --all"
    pfiles=$(file_count "$PMOD")
    pversions=$(find "$PMOD/cache/download" -name '*.ziphash' | wc -l)
    plabel="$pversions versions, $((pfiles / 1000))k files"
    disk_check "$BENCH_DIR" $((2 * $(du -s -B1 "$PMOD" | cut -f1) + 200 * 1000 * 1000))
    mkdir -p "$OUT/empty"
    GK_COPY=$COPIES/gokeep/mod
    REF_COPY=$COPIES/ref/mod
    mapfile -t PGK_ENV < <(GOMODCACHE_OVERRIDE=$GK_COPY go_env "$COPIES/gokeep/world" "$BENCH_DIR/prune/gen/proxy")
    mapfile -t PREF_ENV < <(GOMODCACHE_OVERRIDE=$REF_COPY go_env "$COPIES/ref/world" "$BENCH_DIR/prune/gen/proxy")
fi

# fresh_copies: two `cp -a` copies of the prune fixture, in parallel, synced.
fresh_copies() {
    rm_tree "$COPIES"
    mkdir -p "$COPIES/gokeep/world/home/.cache/go-build" "$COPIES/ref/world/home/.cache/go-build" "$COPIES/gokeep/world/gopath" "$COPIES/ref/world/gopath"
    cp -a "$PMOD" "$GK_COPY" &
    local p=$!
    cp -a "$PMOD" "$REF_COPY" || die "cp -a failed"
    wait "$p" || die "cp -a failed"
}
left_behind() { if [[ -e $1 ]]; then find "$1" -mindepth 1 ! -type d | wc -l; else echo 0; fi; }
# trees_left DIR: extracted module trees (<path>@<version> directories) under DIR.
trees_left() { if [[ -e $1 ]]; then find "$1" -path "$1/cache" -prune -o -type d -name '*@v*' -print -prune | wc -l; else echo 0; fi; }

if want wipe; then
    gk_wipe=(env -i -C "$OUT/empty" "${PGK_ENV[@]}" "$GOKEEP" prune --all --yes --quiet --modcache "$GK_COPY")
    go_clean=(env -i -C "$OUT/empty" "${PREF_ENV[@]}" go clean -modcache)
    wipe_prep() {
        log "wipe round $1: two cp -a copies + sync (not timed)"
        fresh_copies
        sync
    }
    wipe_after() {
        WIPE_LEFT_GK+=("$(left_behind "$GK_COPY")")
        WIPE_LEFT_GO+=("$(left_behind "$REF_COPY")")
    }
    WIPE_LEFT_GK=() WIPE_LEFT_GO=()
    PREP=wipe_prep AFTER=wipe_after measure wipe gk_wipe goclean go_clean
    r=$(ratio "$(med goclean)" "$(med wipe)")
    row "wipe: \`prune --all --yes\` (go's locks) vs \`go clean -modcache\`" "$plabel" "$(secs "$(med wipe)")" \
        "$(secs "$(med goclean)")" "${r}x faster (CPU $(ratio "$(medcpu goclean)" "$(medcpu wipe)")x less)" "≥ 3x faster" \
        "$(at_least "$r" 3)" "$(mb "$(maxrss wipe)")"
    note "wipe: files left per round: gokeep ${WIPE_LEFT_GK[*]} (the .lock files, which another go may hold, and @v/list), go clean -modcache ${WIPE_LEFT_GO[*]}."
    log "wipe: gokeep $(runs wipe) / go $(runs goclean)"
fi

if want age; then
    # The versions made old: every OLD_EVERY-th line of versions.txt.
    awk -v k="$OLD_EVERY" 'NR % k == 0' "$BENCH_DIR/prune/gen/versions.txt" >"$OUT/old.txt"
    old_versions=$(wc -l <"$OUT/old.txt")
    # Their files and directories, relative to the module cache: the tree
    # and cache/download/<path>/@v/<version>.*.
    python3 - "$PMOD" "$OUT/old.txt" >"$OUT/old.list" <<'PY'
import glob, os, sys
root, lst = sys.argv[1], sys.argv[2]
esc = lambda p: "".join("!" + c.lower() if c.isupper() else c for c in p)
out = []
for line in open(lst):
    path, version = line.strip().split("@")
    tree = f"{esc(path)}@{version}"
    for d, dirs, files in os.walk(os.path.join(root, tree)):
        rel = os.path.relpath(d, root)
        out.append(rel)
        out.extend(os.path.join(rel, f) for f in files)
    out.extend(os.path.relpath(f, root) for f in glob.glob(os.path.join(root, "cache", "download", esc(path), "@v", glob.escape(version) + ".*")))
sys.stdout.write("\0".join(out) + "\0")
PY
    OLD_TS=$(($(date +%s) - 2 * AGE_DAYS * 86400))
    gk_age=(env -i -C "$OUT/empty" "${PGK_ENV[@]}" "$GOKEEP" prune --max-age "${AGE_DAYS}d" --yes --quiet --modcache "$GK_COPY")
    find_age=(env -i -C "$OUT/empty" "${PREF_ENV[@]}" find "$REF_COPY" -mtime "+$AGE_DAYS" -delete)
    # age_copy DIR: everything used now, then the chosen versions 2 x AGE_DAYS old
    # (atime and mtime: gokeep reads the newer of the two on a relatime mount).
    age_copy() {
        find "$1" -print0 | xargs -0 touch -h -d "@$(date +%s)"
        (cd "$1" && xargs -0 touch -h -d "@$OLD_TS" <"$OUT/old.list")
    }
    age_prep() {
        log "age round $1: two cp -a copies, ages set, sync (not timed)"
        fresh_copies
        age_copy "$GK_COPY" &
        local p=$!
        age_copy "$REF_COPY"
        wait "$p"
        sync
    }
    age_after() {
        AGE_TREES_GK+=("$(trees_left "$GK_COPY")")
        AGE_TREES_REF+=("$(trees_left "$REF_COPY")")
    }
    AGE_TREES_GK=() AGE_TREES_REF=()
    PREP=age_prep AFTER=age_after measure ageprune gk_age find find_age
    r=$(ratio "$(med find)" "$(med ageprune)")
    trees=$(trees_left "$PMOD")
    row "prune ~10 %: \`prune --max-age ${AGE_DAYS}d\` vs \`find -mtime +$AGE_DAYS -delete\`[^find]" \
        "$plabel, $old_versions old" "$(secs "$(med ageprune)")" "$(secs "$(med find)")" \
        "${r}x faster (CPU $(ratio "$(medcpu find)" "$(medcpu ageprune)")x less)" "— (comparison)" "(no target)" \
        "$(mb "$(maxrss ageprune)")"
    note "prune ~10 %: module trees left of $trees, per round: gokeep ${AGE_TREES_GK[*]}, find ${AGE_TREES_REF[*]} (expected $((trees - old_versions)))."
    note "[^find]: find deletes by each file's own mtime and ignores Go's protocol: it takes no @v/<version>.lock (a go command extracting or reading that version meanwhile is not excluded), writes no .partial marker before the tree goes (a go command seeing a half-deleted tree uses it as complete), and deletes the .lock files too. gokeep judges a whole version by the newest atime/mtime of all its files, locks it, marks it .partial, then removes it. find runs one process with no thread pool; gokeep's prune uses four threads per core."
    log "age: gokeep $(runs ageprune) / find $(runs find)"
fi
rm_tree "$COPIES"

# --- growth ---------------------------------------------------------------------------

if want scan && ((${#GROW_N[@]})); then
    t0=$(awk -v t="${GROW_T[0]}" -v f="${GROW_FILES[0]}" 'BEGIN { print t / f }')
    m0=$(awk -v m="${GROW_RSS[0]}" -v f="${GROW_FILES[0]}" 'BEGIN { print m / f }')
    for i in "${!GROW_N[@]}"; do
        f=${GROW_FILES[$i]}
        per_t=$(awk -v t="${GROW_T[$i]}" -v f="$f" 'BEGIN { print t / f }')
        per_m=$(awk -v m="${GROW_RSS[$i]}" -v f="$f" 'BEGIN { print m / f }')
        rt=$(awk -v a="$per_t" -v b="$t0" 'BEGIN { printf "%.2f", a / b }')
        rm_=$(awk -v a="$per_m" -v b="$m0" 'BEGIN { printf "%.2f", a / b }')
        result=$(awk -v t="$per_t" -v m="$per_m" -v rt="$rt" -v rm="$rm_" \
            'BEGIN { printf "%.2f µs/file (%sx of the smallest), %.0f B RSS/file (%sx)", t * 1e6, rt, m * 1024, rm }')
        verdict=$(awk -v rt="$rt" -v rm="$rm_" 'BEGIN { print (rt <= 1.5 && rm <= 1.5 ? "linear" : "NOT linear") }')
        target="time and RSS per file ≤ 1.5x the smallest size's"
        rss_cell=$(mb "${GROW_RSS[$i]}")
        if ((i == ${#GROW_N[@]} - 1)); then
            target+="; RSS ≤ 64 MB"
            verdict+=", RSS $(at_most "${GROW_RSS[$i]}" "$RSS_LIMIT_KIB")"
        fi
        row "growth: \`status --json\`" "${GROW_N[$i]}" "$(secs "${GROW_T[$i]}")" "—" "$result" "$target" "$verdict" "$rss_cell"
    done
    note "growth: verify is not timed on the grow/ fixtures: gen_scan.py writes placeholder zips (no go, so 1M files take minutes, not hours); verify's figures come from the verify fixture."
fi

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- print ----------------------------------------------------------------------------

echo
echo "## gokeep benchmarks ($START, $ROUNDS rounds, median wall time)"
echo
echo "$(machine_line); load average before/after: $LOAD_BEFORE / $LOAD_AFTER"
echo "gokeep: $("$GOKEEP" --version 2>/dev/null || echo "?") ($GOKEEP)"
echo
echo "| measurement | fixture | gokeep | reference | result | target | verdict | gokeep max RSS |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
# Notes as a list, then footnote definitions (which must start a line).
for n in "${NOTES[@]}"; do
    if [[ $n != "[^"* ]]; then echo "- $n"; fi
done
for n in "${NOTES[@]}"; do
    if [[ $n == "[^"* ]]; then echo && echo "$n"; fi
done

# --- clean up -------------------------------------------------------------------------

if [[ $KEEP != 1 ]]; then
    for n in $GROW_SIZES; do
        if want scan; then rm_tree "$BENCH_DIR/grow/$n"; fi
    done
    rmdir "$BENCH_DIR/grow" 2>/dev/null || true
    if want wipe || want age; then rm_tree "$BENCH_DIR/prune"; fi
    log "deleted the grow/ and prune/ fixtures (KEEP=1 keeps them); the verify fixture stays"
fi
