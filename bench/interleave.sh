#!/usr/bin/env bash
# bench/interleave.sh: the deterministic interleavings of
# tests/prune_interleave.rs, TRIALS times over (a build held inside compile
# and link by a -toolexec pauser, a `go mod download` held halfway through its
# zip inside the version lock, aggressive prunes at each point). Every trial
# is a fresh sandbox; the first failure stops the run.
#
# Usage: bench/interleave.sh [TRIALS]   (default 20; CI runs 1)
# Exit: 0 every trial passed, non-zero otherwise.
set -euo pipefail
trials=${1:-20}
[[ $trials =~ ^[0-9]+$ ]] || { echo "usage: $0 [TRIALS]" >&2; exit 2; }
cd "$(dirname "$0")/.."
cargo test --test prune_interleave --no-run
for ((i = 1; i <= trials; i++)); do
    echo "trial $i of $trials" >&2
    cargo test -q --test prune_interleave
done
echo "$trials of $trials trials passed" >&2
