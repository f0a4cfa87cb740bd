#!/usr/bin/env python3
"""Write a large synthetic module cache and build cache directly, without go.

Used by bench/scan.sh and by bench/run.sh's growth fixtures (100k to 1M files),
where downloading through real `go` would take far too long. The module cache
has the shape of a real one: `<module>@<version>/` trees of small Go files
(read-only, as Go leaves them) and `cache/download/<module>/@v/` with .info,
.mod, .zip, .ziphash and .lock per version plus `list`. The zips and ziphashes
are placeholders (random bytes, a made-up h1:), so the fixture is for scanning,
sizing and deleting, not for verify. The build cache is small and fixed: 256
shards of 3,000 -a/-d entry pairs, README and trim.txt.

Usage: gen_scan.py MODCACHE GOCACHE FILES
Stops at the first module after at least FILES files exist in the module
cache. The tree layout is deterministic (seeded); zip bytes are random.
Only the Python 3 standard library is used.
"""

import hashlib
import json
import os
import random
import sys

BODY = "// Code in a synthetic module.\npackage p\n\n" + "func F() int { return 1 }\n" * 400
UMASK = os.umask(0)
os.umask(UMASK)


def write(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        if mode & UMASK:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)


def module_cache(modcache, target):
    rng = random.Random(42)
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
                    size = min(int(rng.lognormvariate(7.5, 1.0)), len(BODY))
                    write(os.path.join(sub, f"file{i}.go"), BODY[:size].encode(), 0o444)
                    files += 1
                    size_sum += size
            write(os.path.join(root, "go.mod"), f"module {path}\n\ngo 1.21\n".encode(), 0o444)
            write(os.path.join(root, "LICENSE"), b"MIT\n" * 200, 0o444)
            files += 2
            info = json.dumps({"Version": v, "Time": "2024-01-01T00:00:00Z"}).encode()
            write(os.path.join(dl, f"{v}.info"), info)
            write(os.path.join(dl, f"{v}.mod"), f"module {path}\n\ngo 1.21\n".encode())
            write(os.path.join(dl, f"{v}.zip"), os.urandom(max(size_sum // 4, 512)))
            h1 = hashlib.sha256(root.encode()).digest().hex()[:44]
            write(os.path.join(dl, f"{v}.ziphash"), b"h1:" + h1.encode())
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
    return n, files


def build_cache(gocache):
    rng = random.Random(43)
    for s in range(256):
        os.makedirs(os.path.join(gocache, f"{s:02x}"), exist_ok=True)
    for i in range(3000):
        h = hashlib.sha256(str(i).encode()).hexdigest()
        write(os.path.join(gocache, h[:2], h + "-a"), b"v1 " + b"0" * 171 + b"\n")
        write(os.path.join(gocache, h[:2], h + "-d"), os.urandom(rng.randint(100, 20000)))
    write(os.path.join(gocache, "README"), b"This directory holds cached build artifacts from the Go build system.\n")
    write(os.path.join(gocache, "trim.txt"), b"1700000000")


def main():
    if len(sys.argv) != 4 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    modcache, gocache, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(modcache, exist_ok=True)
    n, files = module_cache(modcache, target)
    os.makedirs(gocache, exist_ok=True)
    build_cache(gocache)
    print(f"{n} modules, {files} files in the module cache", file=sys.stderr)


if __name__ == "__main__":
    main()
