#!/usr/bin/env bash
# The packaging check .ci/run runs after the tests: builds the assets and the
# .deb exactly as a release does (packaging/build-assets.sh, then
# `cargo deb --no-build`), then asserts with `dpkg -c` that the package holds
# the binary, the man pages, the shell completions, the shipped policies and
# the unit templates, and that the unpacked binary finds the shipped nightly
# policy where `gokeep schedule install` looks for it.
#
# GOKEEP_DEB_PROFILE (default: dev) is the cargo profile the binary is
# built with. dev reuses the build `cargo test` just made, so the check costs
# seconds, not the minutes of an optimised build on CI's two cores; nothing
# it looks at depends on the profile (cargo-deb warns that dev is not for
# releases). `GOKEEP_DEB_PROFILE=release` checks the exact release build;
# `deb-check` (release without LTO, parallel codegen) is the middle way.
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${GOKEEP_DEB_PROFILE:-dev}"

if ! command -v cargo-deb >/dev/null 2>&1; then
    echo "check-deb: installing cargo-deb from crates.io" >&2
    # --debug: it compiles in half the time, and packing one small binary
    # needs no optimised packer.
    cargo install cargo-deb --locked --debug
fi
for tool in dpkg dpkg-deb; do
    command -v "$tool" >/dev/null 2>&1 || { echo "check-deb: $tool is required" >&2; exit 1; }
done

GOKEEP_PROFILE="$profile" packaging/build-assets.sh
out=target/debian
rm -rf "$out"
# --fast: the check needs the contents, not the smallest archive.
deb=$(cargo deb --no-build --profile "$profile" --fast --output "$out" | tail -n 1)
[ -f "$deb" ] || { echo "check-deb: cargo deb printed no package path (got: $deb)" >&2; exit 1; }
echo "check-deb: built $deb"

listing=$(dpkg -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
expect=(
    /usr/bin/gokeep
    /usr/share/man/man1/gokeep.1.gz
    /usr/share/bash-completion/completions/gokeep
    /usr/share/zsh/vendor-completions/_gokeep
    /usr/share/fish/vendor_completions.d/gokeep.fish
    /usr/share/doc/gokeep/README.md
)
# One man page per subcommand page `gokeep generate man` writes.
for page in target/assets/man/*.1; do
    expect+=("/usr/share/man/man1/$(basename "$page").gz")
done
# Every shipped policy and unit template.
for f in schedules/*.toml schedules/*.in; do
    expect+=("/usr/share/gokeep/schedules/$(basename "$f")")
done
for f in github-action/action.yml gitlab-ci.yml Dockerfile.ci-image k8s-cronjob.yaml; do
    expect+=("/usr/share/doc/gokeep/examples/$f")
done
missing=0
for path in "${expect[@]}"; do
    if ! grep -qxF "$path" <<<"$listing"; then
        echo "check-deb: $deb lacks $path" >&2
        missing=1
    fi
done
[ "$missing" = 0 ] || { dpkg -c "$deb" >&2; exit 1; }
mode=$(dpkg -c "$deb" | awk '$6 == "./usr/bin/gokeep" {print $1}')
[ "$mode" = "-rwxr-xr-x" ] || { echo "check-deb: /usr/bin/gokeep is $mode, not executable" >&2; exit 1; }

# Unpacked, the binary runs and finds ../share/gokeep/schedules/nightly.toml.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"
"$root/usr/bin/gokeep" --version
mkdir -p "$root/home" "$root/mod/cache/download" "$root/build"
plan=$(HOME="$root/home" GOKEEP_STATE_DIR="$root/state" \
    "$root/usr/bin/gokeep" --modcache "$root/mod" --gocache "$root/build" \
    schedule install --unit-dir "$root/units" --dry-run)
grep -qF -- "--policy $root/usr/share/gokeep/schedules/nightly.toml" <<<"$plan" || {
    echo "check-deb: schedule install does not use the packaged nightly.toml:" >&2
    echo "$plan" >&2
    exit 1
}
echo "check-deb: $deb holds ${#expect[@]} expected files; the packaged binary finds its nightly policy"
