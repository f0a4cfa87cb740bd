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
    if [[ -d $BENCH_DIR ]]; then
        chmod -R u+w "$BENCH_DIR"
        rm -rf "$BENCH_DIR"
    fi
    mkdir -p "$MODCACHE" "$GOCACHE_DIR"
    python3 - "$MODCACHE" "$GOCACHE_DIR" "$FILES" <<'PY'
import hashlib, json, os, random, sys

modcache, gocache, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(42)
body = "// Code in a synthetic module.\npackage p\n\n" + "func F() int { return 1 }\n" * 400

def write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)

files, n = 0, 0
while files < target:
    host = ["github.com", "golang.org/x", "gopkg.in", "example.com"][n % 4]
    path = f"{host}/Org{n % 37}/repo{n}" if n % 5 == 0 else f"{host}/org{n % 37}/repo{n}"
    esc = "".join("!" + c.lower() if c.isupper() else c for c in path)
    versions = [f"v1.{k}.0" for k in range(rng.randint(1, 3))]
    dl = os.path.join(modcache, "cache", "download", esc, "@v")
    os.makedirs(dl, exist_ok=True)
    for v in versions:
        root = os.path.join(modcache, f"{esc}@{v}")
        size_sum = 0
        for d in range(rng.randint(2, 8)):
            sub = os.path.join(root, "internal" if d == 0 else f"pkg{d}", f"sub{d}")
            os.makedirs(sub, exist_ok=True)
            for i in range(rng.randint(4, 20)):
                size = min(int(rng.lognormvariate(7.5, 1.0)), len(body))
                write(os.path.join(sub, f"file{i}.go"), body[:size].encode(), 0o444)
                files += 1
                size_sum += size
        write(os.path.join(root, "go.mod"), f"module {path}\n\ngo 1.21\n".encode(), 0o444)
        write(os.path.join(root, "LICENSE"), b"MIT\n" * 200, 0o444)
        files += 2
        write(os.path.join(dl, f"{v}.info"), json.dumps({"Version": v, "Time": "2024-01-01T00:00:00Z"}).encode())
        write(os.path.join(dl, f"{v}.mod"), f"module {path}\n\ngo 1.21\n".encode())
        write(os.path.join(dl, f"{v}.zip"), os.urandom(max(size_sum // 4, 512)))
        write(os.path.join(dl, f"{v}.ziphash"), b"h1:" + hashlib.sha256(root.encode()).digest().hex()[:44].encode())
        write(os.path.join(dl, f"{v}.lock"), b"")
        files += 5
        # Go leaves extracted trees read-only.
        for d, _, _ in os.walk(root, topdown=False):
            os.chmod(d, 0o555)
    write(os.path.join(dl, "list"), "".join(v + "\n" for v in versions).encode())
    files += 1
    n += 1
os.makedirs(os.path.join(modcache, "cache"), exist_ok=True)
write(os.path.join(modcache, "cache", "lock"), b"")

for s in range(256):
    os.makedirs(os.path.join(gocache, f"{s:02x}"), exist_ok=True)
for i in range(3000):
    h = hashlib.sha256(str(i).encode()).hexdigest()
    write(os.path.join(gocache, h[:2], h + "-a"), b"v1 " + b"0" * 171 + b"\n")
    write(os.path.join(gocache, h[:2], h + "-d"), os.urandom(rng.randint(100, 20000)))
write(os.path.join(gocache, "README"), b"This directory holds cached build artifacts from the Go build system.\n")
write(os.path.join(gocache, "trim.txt"), b"1700000000")
print(f"{n} modules, {files} files in the module cache", file=sys.stderr)
PY
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
