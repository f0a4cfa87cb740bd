#!/usr/bin/env bash
# Builds the binary, then generates man pages and shell completions from its
# clap definitions into target/assets/ (what [package.metadata.deb] ships).
# Usage: packaging/build-assets.sh && cargo deb --no-build
# GOKEEP_PROFILE names another cargo profile (packaging/check-deb.sh uses
# deb-check, release without LTO); then: cargo deb --no-build --profile NAME
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${GOKEEP_PROFILE:-release}"
cargo build --profile "$profile" --locked
# Cargo writes the dev profile to target/debug, every other one to target/<name>.
bin="target/$([ "$profile" = dev ] && echo debug || echo "$profile")/gokeep"
out=target/assets
rm -rf "$out" && mkdir -p "$out/man" "$out/completions"
"$bin" generate man "$out/man"
"$bin" generate completions bash >"$out/completions/gokeep.bash"
"$bin" generate completions zsh >"$out/completions/_gokeep"
"$bin" generate completions fish >"$out/completions/gokeep.fish"
echo "assets in $out"
