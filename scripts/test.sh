#!/bin/sh
# Runs every test: installs the tools they need, checks formatting and lints,
# then cargo test. This is the command README.md gives and .ci/run calls.
set -eu
cd "$(dirname "$0")/.."
scripts/test-deps.sh
export PATH="${KSVENV:-/opt/ksvenv}/bin:$PATH"
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
# The helper as it ships (static, musl): tests check that build accepts it
# and that plan answers on it.
RUSTFLAGS="-C relocation-model=static --remap-path-prefix=$PWD=/clusterkick --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo" \
	cargo build --release --quiet --target x86_64-unknown-linux-musl --bin clusterkick-firstboot
cargo test --all-targets "$@"
