#!/usr/bin/env bash
# Torture tests at bench scale: each torture test file of the suite run
# TRIALS times in a row (default 20), the hostile cache with a 4 GB zip bomb
# and 100 GB sparse files. Prints one line per test file: trials, passed,
# failed, median and slowest wall time; the log of every failed trial is kept.
#
#   bench/torture.sh [TRIALS] [TEST...]     e.g. bench/torture.sh 200 prune_race
#
# The test files and what one trial does:
#   prune_race         a racer swaps cache directories for links to a canary
#                      while prune, verify --fix, refresh, mark,
#                      prune --unused-since-mark, the build-cache age rule and
#                      explain --fix run (19 gokeep runs per trial)
#   prune_permissions  the permission matrix (8 rows)
#   disk_full          every file gokeep writes, on a full tmpfs
#   go_differential    Go's trim against gokeep's age rule; version locks
#                      held by go and by gokeep (a new catch each trial)
#   hostile_cache      links out, odd names, zip bomb, zip slip, sparse
#                      files, FIFOs: status, verify and prune bounded
#
# Needs root (tmpfs and bind mounts, chattr, chown), go, cargo. Builds the
# tests with the release profile (BENCH_PROFILE=dev to skip that build).
# Exit status: 0 every trial passed, 1 some failed, 2 setup error.
set -euo pipefail

# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

TRIALS=${1:-20}
shift || true
[[ $TRIALS =~ ^[0-9]+$ && $TRIALS -gt 0 ]] || die "TRIALS must be a positive number, not '$TRIALS'"
TESTS=("$@")
[[ ${#TESTS[@]} -gt 0 ]] || TESTS=(prune_race prune_permissions disk_full go_differential hostile_cache)
[[ $(id -u) -eq 0 ]] || die "the torture tests mount file systems and change owners: run as root"
require_tools go cargo

PROFILE=${BENCH_PROFILE:-release}
profile_flag=()
[[ $PROFILE == release ]] && profile_flag=(--release)

export GOKEEP_BOMB_BYTES=${GOKEEP_BOMB_BYTES:-4000000000}
export GOKEEP_SPARSE_BYTES=${GOKEEP_SPARSE_BYTES:-100000000000}

LOGS=$(mktemp -d "${TMPDIR:-/tmp}/gokeep-torture.XXXXXX")
cd "$REPO"
for t in "${TESTS[@]}"; do
    log "building $t ($PROFILE)"
    cargo test "${profile_flag[@]}" --test "$t" --no-run >"$LOGS/build-$t.log" 2>&1 ||
        die "building $t failed: see $LOGS/build-$t.log"
done

failed_any=0
printf '%-18s %7s %7s %7s %10s %10s\n' test trials passed failed median_s max_s
for t in "${TESTS[@]}"; do
    passed=0
    failed=0
    times=()
    for ((i = 1; i <= TRIALS; i++)); do
        start=$(date +%s.%N)
        if cargo test "${profile_flag[@]}" -q --test "$t" >"$LOGS/$t-$i.log" 2>&1; then
            passed=$((passed + 1))
            rm -f "$LOGS/$t-$i.log"
        else
            failed=$((failed + 1))
            failed_any=1
            log "$t trial $i failed: $LOGS/$t-$i.log"
        fi
        times+=("$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')")
    done
    med=$(median "${times[@]}")
    max=$(max_of "${times[@]}")
    printf '%-18s %7d %7d %7d %10.1f %10.1f\n' "$t" "$TRIALS" "$passed" "$failed" "$med" "$max"
done
if [[ $failed_any -eq 0 ]]; then
    rm -rf "$LOGS"
else
    log "logs of the failed trials: $LOGS"
fi
exit "$failed_any"
