#!/usr/bin/env bash
# Times `gokeep prune --all --yes` against `go clean -modcache` on identical
# copies of one large module cache and prints the ratio (target: gokeep at
# least 1.5x faster).
#
# The cache is laid out as cmd/go leaves it: MODULES module versions, each an
# extracted read-only tree (dirs 0555, files 0444) of FILES files in nested
# directories plus cache/download/<module>/@v/<version>.{info,mod,zip,ziphash,lock}
# and @v/list. Generated once per run into a temp dir (or $BENCH_DIR), then
# copied with `cp -a` before every timed run. Both tools run on a hot page
# cache, ROUNDS times each, alternating; the medians are compared.
#
# Usage: bench/prune.sh            (MODULES=500 FILES=200 ROUNDS=3 by default)
set -euo pipefail

MODULES=${MODULES:-500}
FILES=${FILES:-200}
ROUNDS=${ROUNDS:-3}

here=$(cd "$(dirname "$0")/.." && pwd)
command -v go >/dev/null || { echo "bench/prune.sh needs go on PATH" >&2; exit 1; }
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$here/target}
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
gokeep=$CARGO_TARGET_DIR/release/gokeep

work=${BENCH_DIR:-$(mktemp -d /tmp/gokeep-bench-prune.XXXXXX)}
cleanup() { chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work"
pristine=$work/pristine

echo "generating a module cache: $MODULES module versions x $FILES files ..." >&2
python3 - "$pristine" "$MODULES" "$FILES" <<'EOF'
import os, sys, json, hashlib, base64
root, modules, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(modules):
    path = f"example.com/bench/m{i:04d}"
    ver = f"v1.{i % 7}.0"
    tree = os.path.join(root, f"{path}@{ver}")
    for f in range(files):
        d = os.path.join(tree, f"pkg{f % 10}", f"sub{f % 3}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{f}.go"), "w") as fh:
            fh.write(f"package sub{f % 3}\n\n// {path}@{ver} file {f}\nconst C{f} = {f}\n" * 4)
    with open(os.path.join(tree, "go.mod"), "w") as fh:
        fh.write(f"module {path}\n\ngo 1.21\n")
    at_v = os.path.join(root, "cache/download", path, "@v")
    os.makedirs(at_v, exist_ok=True)
    with open(os.path.join(at_v, f"{ver}.info"), "w") as fh:
        json.dump({"Version": ver, "Time": "2024-03-01T12:00:00Z"}, fh)
    with open(os.path.join(at_v, f"{ver}.mod"), "w") as fh:
        fh.write(f"module {path}\n\ngo 1.21\n")
    with open(os.path.join(at_v, f"{ver}.zip"), "wb") as fh:
        fh.write(os.urandom(64 * 1024))
    h = base64.b64encode(hashlib.sha256(path.encode()).digest()).decode()
    with open(os.path.join(at_v, f"{ver}.ziphash"), "w") as fh:
        fh.write("h1:" + h)
    open(os.path.join(at_v, f"{ver}.lock"), "w").close()
    with open(os.path.join(at_v, "list"), "w") as fh:
        fh.write(ver + "\n")
    # As cmd/go leaves them: files 0444, then directories 0555 children first.
    for dirpath, dirnames, filenames in os.walk(tree):
        for n in filenames:
            os.chmod(os.path.join(dirpath, n), 0o444)
    for dirpath, dirnames, filenames in sorted(os.walk(tree), key=lambda w: -len(w[0])):
        os.chmod(dirpath, 0o555)
EOF
count=$(find "$pristine" -type f | wc -l)
echo "cache: $count files, $(du -sh "$pristine" | cut -f1)" >&2

copy() { rm -rf "$1" 2>/dev/null || { chmod -R u+w "$1"; rm -rf "$1"; }; cp -a "$pristine" "$1"; sync; }

now() { date +%s.%N; }
declare -a t_gokeep t_go
for r in $(seq 1 "$ROUNDS"); do
    copy "$work/a"
    s=$(now)
    HOME=$work GOMODCACHE=$work/a "$gokeep" prune --all --yes --quiet
    e=$(now)
    t_gokeep+=("$(echo "$e - $s" | bc)")
    left=$(find "$work/a" -type f ! -name '*.lock' ! -name list | wc -l)
    [ "$left" -eq 0 ] || { echo "gokeep left $left files" >&2; exit 1; }

    copy "$work/b"
    s=$(now)
    HOME=$work GOMODCACHE=$work/b GOFLAGS= GOENV=off go clean -modcache
    e=$(now)
    t_go+=("$(echo "$e - $s" | bc)")
    [ ! -e "$work/b" ] || { echo "go clean -modcache left $work/b" >&2; exit 1; }
    echo "round $r: gokeep ${t_gokeep[-1]}s  go clean -modcache ${t_go[-1]}s" >&2
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mg=$(median "${t_gokeep[@]}")
mc=$(median "${t_go[@]}")
ratio=$(echo "scale=2; $mc / $mg" | bc)
echo "files: $count  threads: $(nproc)"
echo "gokeep prune --all --yes:  ${mg}s (median of $ROUNDS)"
echo "go clean -modcache:        ${mc}s (median of $ROUNDS)"
echo "ratio (go clean / gokeep): ${ratio}x (target >= 1.5x)"
