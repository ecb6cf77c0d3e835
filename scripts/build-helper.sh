#!/bin/sh
# Builds the first-boot helper as it ships to the nodes:
# target/x86_64-unknown-linux-musl/release/clusterkick-firstboot. A plain
# static executable (not static-pie) for the oldest kernels, with build paths
# mapped away so that its bytes (and every checksum that pins it) do not
# depend on where this tree was cloned. Built without any cargo feature: the
# simulator never gets into it.
#
# --sim also builds its test-only twin, clusterkick-firstboot-sim (feature
# `sim`), for the same target with the same flags: the tests run that one
# under the CentOS 5 system-call filter (tests/firstboot_old_kernel.rs).
set -eu
cd "$(dirname "$0")/.."
TARGET=x86_64-unknown-linux-musl
RUSTFLAGS="-C relocation-model=static --remap-path-prefix=$PWD=/clusterkick --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"
export RUSTFLAGS
rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET"
cargo build --release --quiet --target "$TARGET" --bin clusterkick-firstboot
if [ "${1:-}" = --sim ]; then
	cargo build --release --quiet --target "$TARGET" --features sim --bin clusterkick-firstboot-sim
fi
