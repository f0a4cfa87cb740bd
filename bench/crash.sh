#!/usr/bin/env bash
# bench/crash.sh: crash safety at length. TRIALS random SIGKILLs of `gokeep
# prune` spread over whole runs (tests/prune_crash.rs; CI runs 32), then the
# failpoint runs: `prune` (a whole-version and a tree removal), `link` and
# `unlink` (work and replace mode) aborted right after each of their
# file-system mutations in turn (GOKEEP_FAILPOINT=1, 2, … until a run
# finishes). After every stop: `go list -m` names a complete tree or none,
# `go mod verify` and `go build` pass, go.mod/go.work hold the old or the new
# bytes, and a re-run finishes the job.
#
# Usage: bench/crash.sh [TRIALS]   (default 100 random kills)
# Exit: 0 no failure, non-zero otherwise (cargo test's status).
set -euo pipefail
trials=${1:-100}
[[ $trials =~ ^[0-9]+$ ]] || { echo "usage: $0 [TRIALS]" >&2; exit 2; }
cd "$(dirname "$0")/.."
GOKEEP_CRASH_TRIALS=$trials cargo test --test prune_crash -- --nocapture --test-threads 1
exec cargo test --test overrides_crash -- --nocapture --test-threads 1
