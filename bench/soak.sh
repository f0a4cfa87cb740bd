#!/usr/bin/env bash
# bench/soak.sh: the soak of tests/prune_concurrency.rs at length. `go build`,
# `go test -count=1`, `go mod download` and (once per 100 cycles) `go clean
# -cache` loop in a hermetic sandbox while `gokeep prune` runs every 100 ms
# (every tenth cycle removing whole versions by age) and `gokeep verify --fix`
# every 100 ms beside it. Fails on any `go` failure (its stderr is printed),
# any prune failure, or a `go mod verify` that is not clean at the end.
#
# Usage: bench/soak.sh [CYCLES]   (default 1000 prune cycles; CI runs 100)
# Exit: 0 no failure, non-zero otherwise (cargo test's status).
set -euo pipefail
cycles=${1:-1000}
[[ $cycles =~ ^[0-9]+$ ]] || { echo "usage: $0 [CYCLES]" >&2; exit 2; }
cd "$(dirname "$0")/.."
GOKEEP_SOAK_CYCLES=$cycles exec cargo test --test prune_concurrency soak_ -- --nocapture
