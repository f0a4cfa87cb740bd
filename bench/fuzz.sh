#!/usr/bin/env bash
# Runs gokeep's cargo-fuzz targets one after another, each for a fixed time,
# from corpora seeded with real inputs, and prints one line per target.
#
#   bench/fuzz.sh [SECONDS] [TARGET...]     (default: 60 s, every target)
#
# Needs the nightly toolchain (rustup toolchain install nightly) and
# cargo-fuzz (cargo install cargo-fuzz --locked). Seeds are rebuilt on every
# run under fuzz/seeds/<target>; what the fuzzer adds stays in
# fuzz/corpus/<target>; crashes land in fuzz/artifacts/<target> and the
# run's log in fuzz/logs/<target>.log. See bench/FUZZING.md.
#
# Environment: FUZZ_JOBS (default 1: targets never share the machine's cores
# with each other), FUZZ_NICE (default 10), FUZZ_MALLOC_MB (largest single
# allocation allowed, default 256), FUZZ_RSS_MB (default 1024),
# FUZZ_ZIPS_FROM (extra directories to take small .zip seeds from).
#
# Exit status: 0 every target ran clean, 1 a target crashed (the artifact is
# named in its line), 2 setup error.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FUZZ="$REPO/fuzz"
SECONDS_EACH=60
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    SECONDS_EACH=$1
    shift
fi
ALL=(modfile_roundtrip modfile_edit gosum policy_toml cron gocache_entry zip_hash modpath explain_decode)
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=("${ALL[@]}")
JOBS=${FUZZ_JOBS:-1}
NICE=${FUZZ_NICE:-10}

die() {
    printf 'error: %s\n' "$*" >&2
    exit 2
}
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

command -v cargo >/dev/null || die "cargo is required"
cargo +nightly --version >/dev/null 2>&1 || die "the nightly toolchain is required (rustup toolchain install nightly)"
cargo fuzz --version >/dev/null 2>&1 || die "cargo-fuzz is required (cargo install cargo-fuzz --locked)"
for t in "${TARGETS[@]}"; do
    [[ " ${ALL[*]} " == *" $t "* ]] || die "unknown target $t (known: ${ALL[*]})"
done

GOROOT_SRC=""
if command -v go >/dev/null; then
    GOROOT_SRC="$(go env GOROOT)/src"
fi

# Copies files into a seed directory under names made from their content,
# so the same seed from two places is kept once.
seed_files() {
    local dir=$1
    shift
    local f
    for f in "$@"; do
        [[ -f $f && -r $f ]] || continue
        cp -- "$f" "$dir/$(sha1sum <"$f" | cut -c1-40)"
    done
}

# Each line of stdin becomes its own seed.
seed_lines() {
    local dir=$1 line
    while IFS= read -r line; do
        [[ -n $line ]] || continue
        printf '%s' "$line" >"$dir/$(printf '%s' "$line" | sha1sum | cut -c1-40)"
    done
}

# `-- go.mod --` and `-- go.work --` sections of cmd/go's txtar scripts:
# thousands of small real files, many of them deliberately malformed.
txtar_sections() {
    local name=$1 out=$2
    [[ -n $GOROOT_SRC ]] || return 0
    find "$GOROOT_SRC/cmd/go/testdata/script" "$GOROOT_SRC/cmd/go/testdata/mod" -name '*.txt' -print0 2>/dev/null |
        xargs -0 awk -v want="$name" -v out="$out" '
            FNR == 1 { inside = 0 }
            /^-- .* --$/ {
                if (inside) close(file)
                inside = ($2 == want || $2 ~ ("/" want "$"))
                if (inside) { n++; file = sprintf("%s/txtar-%06d", out, n) ; printf "" > file }
                next
            }
            inside { print >> file }
        '
}

make_seeds() {
    local t=$1 dir="$FUZZ/seeds/$1"
    rm -rf "$dir"
    mkdir -p "$dir"
    case $t in
    modfile_roundtrip | modfile_edit)
        if [[ -n $GOROOT_SRC ]]; then
            mapfile -d '' files < <(find "$GOROOT_SRC" \( -name go.mod -o -name go.work \) -print0)
            seed_files "$dir" "${files[@]}"
            txtar_sections go.mod "$dir"
            txtar_sections go.work "$dir"
        fi
        ;;
    gosum)
        if [[ -n $GOROOT_SRC ]]; then
            mapfile -d '' files < <(find "$GOROOT_SRC" -name go.sum -print0)
            seed_files "$dir" "${files[@]}"
            txtar_sections go.sum "$dir"
        fi
        ;;
    policy_toml)
        seed_files "$dir" "$REPO"/schedules/*.toml
        ;;
    cron)
        # Arbitrary's layout: zone byte, start (4 bytes), run count, then the line.
        printf '%s\n' '0 2 * * *' '*/15 * * * *' '30 4 1,15 * 5' '0 0 29 2 *' '0 0 31 2 mon' \
            '@daily' '@weekly' '@hourly' '5/10 8-18 * jan-jun mon-fri' '0 2 * * 7' '59 23 31 12 sun' \
            '0 0 1-31/2 */3 0-6/2' '30 2 * * *' | while IFS= read -r line; do
            printf '\001\000\100\000\001\005%s' "$line" >"$dir/$(printf '%s' "$line" | sha1sum | cut -c1-40)"
        done
        ;;
    gocache_entry)
        local cache="" scratch=""
        command -v go >/dev/null && cache=$(go env GOCACHE 2>/dev/null || true)
        if command -v go >/dev/null && ! [[ -n $cache && -d $cache ]]; then
            # No GOCACHE on this machine: one small build fills a scratch one.
            scratch=$(mktemp -d)
            mkdir -p "$scratch/hello" "$scratch/home"
            printf 'module example.com/hello\n\ngo 1.21\n' >"$scratch/hello/go.mod"
            printf 'package main\n\nfunc main() { println("hi") }\n' >"$scratch/hello/main.go"
            (cd "$scratch/hello" && HOME="$scratch/home" GOCACHE="$scratch/cache" GOPATH="$scratch/gopath" GOPROXY=off \
                GOTOOLCHAIN=local GOFLAGS=-mod=mod nice -n "$NICE" go build -o /dev/null . >/dev/null 2>&1) || true
            cache="$scratch/cache"
        fi
        if [[ -n $cache && -d $cache ]]; then
            mapfile -d '' files < <(find "$cache" -maxdepth 2 -name '*-a' -size 175c -print0 2>/dev/null | head -z -n 64)
            seed_files "$dir" "${files[@]}"
        fi
        [[ -n $scratch ]] && chmod -R u+w "$scratch" && rm -rf "$scratch"
        printf 'v1 %064d %064d %20d %20d\n' 0 0 12 1700000000000000000 >"$dir/zeros"
        ;;
    zip_hash)
        local roots=()
        command -v go >/dev/null && roots+=("$(go env GOMODCACHE)/cache/download")
        roots+=("${BENCH_DIR:-/tmp/gokeep-bench}")
        # shellcheck disable=SC2206
        roots+=(${FUZZ_ZIPS_FROM:-})
        local r
        for r in "${roots[@]}"; do
            [[ -d $r ]] || continue
            mapfile -d '' files < <(find "$r" -name '*.zip' -size -64k -print0 2>/dev/null | head -z -n 48)
            seed_files "$dir" "${files[@]}"
        done
        if command -v python3 >/dev/null; then
            python3 - "$dir" <<'EOF'
import io, sys, zipfile
out = sys.argv[1]
def put(name, build):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        build(z)
    open(f"{out}/gen-{name}", "wb").write(buf.getvalue())
pre = "example.com/m@v1.0.0/"
def plain(z):
    z.writestr(pre + "go.mod", "module example.com/m\n", zipfile.ZIP_STORED)
    z.writestr(pre + "sub/a.go", "package sub\n" * 40, zipfile.ZIP_DEFLATED)
    z.writestr(pre + "sub/", "", zipfile.ZIP_STORED)
put("plain", plain)
def streamed(z):
    # Written through a stream: sizes and CRC come after the data, in a descriptor.
    with z.open(pre + "go.mod", "w", force_zip64=False) as f:
        f.write(b"module example.com/m\n")
    with z.open(zipfile.ZipInfo(pre + "big.txt"), "w", force_zip64=True) as f:
        f.write(b"x" * 5000)
put("streamed", streamed)
# A stream-written zip: python writes data descriptors when it cannot seek.
class NoSeek(io.RawIOBase):
    def __init__(self): self.b = bytearray()
    def writable(self): return True
    def write(self, d): self.b += d; return len(d)
s = NoSeek()
with zipfile.ZipFile(s, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr(pre + "go.mod", "module example.com/m\n")
    z.writestr(pre + "sub/a.go", "package sub\n" * 10)
open(f"{out}/gen-descriptor", "wb").write(bytes(s.b))
EOF
        fi
        ;;
    modpath)
        {
            if [[ -n $GOROOT_SRC ]]; then
                find "$GOROOT_SRC" -name go.sum -exec awk '{ print $1; print $2 }' {} + | sort -u | head -n 200
            fi
            printf '%s\n' 'github.com/Azure/azure-sdk-for-go' 'github.com/!azure/azure-sdk-for-go' 'gopkg.in/yaml.v3' \
                'example.com/m/v2' 'example.com/m/v1' 'gopkg.in/check.v1-unstable' 'example.com/con/aux' \
                'example.com/~user' 'v1.2.3-Pre' 'v0.0.0-20200101000000-ABCDEF'
        } | seed_lines "$dir"
        ;;
    explain_decode)
        seed_files "$dir" "$REPO"/tests/explain_corpus/*
        ;;
    esac
    find "$dir" -type f | wc -l
}

log "building fuzz targets (cargo +nightly fuzz build)"
(cd "$REPO" && nice -n "$NICE" cargo +nightly fuzz build) || die "cargo fuzz build failed"

mkdir -p "$FUZZ/logs"
status=0
results=()
for t in "${TARGETS[@]}"; do
    seeds=$(make_seeds "$t")
    mkdir -p "$FUZZ/corpus/$t" "$FUZZ/artifacts/$t"
    logf="$FUZZ/logs/$t.log"
    extra=()
    [[ -f $FUZZ/dicts/$t.dict ]] && extra+=("-dict=$FUZZ/dicts/$t.dict")
    # -jobs forks workers that log to fuzz-<n>.log; one job runs in place.
    [[ $JOBS -gt 1 ]] && extra+=("-jobs=$JOBS" "-workers=$JOBS")
    log "$t: ${SECONDS_EACH}s from $seeds seeds"
    set +e
    (cd "$REPO" && RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-2} nice -n "$NICE" cargo +nightly fuzz run "$t" \
        "$FUZZ/corpus/$t" "$FUZZ/seeds/$t" -- \
        -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb="${FUZZ_RSS_MB:-1024}" \
        -malloc_limit_mb="${FUZZ_MALLOC_MB:-256}" -print_final_stats=1 "${extra[@]}") >"$logf" 2>&1
    rc=$?
    set -e
    # With -jobs, libFuzzer writes the worker's own output to fuzz-<n>.log.
    for w in "$REPO"/fuzz-*.log "$FUZZ"/fuzz-*.log; do
        [[ -f $w ]] && cat "$w" >>"$logf" && rm -f "$w"
    done
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$logf" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$logf" | tail -1)
    corpus=$(find "$FUZZ/corpus/$t" -type f | wc -l)
    if [[ $rc -eq 0 ]]; then
        verdict="clean"
    else
        status=1
        verdict="CRASH ($(grep -oE 'Test unit written to [^ ]+' "$logf" | tail -1 | sed 's/Test unit written to //'))"
    fi
    results+=("$(printf '%-18s %10s execs  %-20s corpus %6s  %s' "$t" "${execs:-?}" "${cov:-cov: ?}" "$corpus" "$verdict")")
done

printf '\n%s s per target, %s\n' "$SECONDS_EACH" "$(date -u +%Y-%m-%dT%H:%MZ)"
printf '%s\n' "${results[@]}"
exit "$status"
