#!/bin/sh
# Runs every test: installs the tools they need, checks formatting and lints,
# then cargo test. This is the command README.md gives and .ci/run calls.
set -eu
cd "$(dirname "$0")/.."
scripts/test-deps.sh
export PATH="${KSVENV:-/opt/ksvenv}/bin:$PATH"
cargo fmt --check
# Lints with and without the test-only simulator (feature `sim`), so that
# code only the simulator uses cannot hide in the helper that ships.
cargo clippy --lib --bins --quiet -- -D warnings
cargo clippy --all-targets --features sim --quiet -- -D warnings
# The helper as it ships (static, musl, no features) and its simulator twin:
# tests check that build accepts the one and that it holds nothing of the
# other, and run the twin under CentOS 5 system-call semantics.
scripts/build-helper.sh --sim
# clusterkick as it ships (release: panic = "abort"): tests/cli_pipes.rs
# runs it with its output a closed pipe.
cargo build --release --quiet --bin clusterkick
cargo test --all-targets --features sim "$@"
