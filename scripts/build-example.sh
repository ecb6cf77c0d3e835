#!/bin/sh
# Builds the example profile into out/an-cluster/: the clusterkick binary,
# the static first-boot helper for the nodes, then the cluster itself.
set -eu
cd "$(dirname "$0")/.."
TARGET=x86_64-unknown-linux-musl
# git does not keep file modes: give the example's secrets back theirs.
chmod 700 profiles/an-cluster.secrets
chmod 600 profiles/an-cluster.secrets/*
rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET"
cargo build --release --quiet --bin clusterkick
# A plain static executable (not static-pie) for the oldest kernels, with
# build paths mapped away so that the helper's bytes (and every checksum
# that pins it) do not depend on where this tree was cloned.
RUSTFLAGS="-C relocation-model=static --remap-path-prefix=$PWD=/clusterkick --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo" \
	cargo build --release --quiet --target "$TARGET" --bin clusterkick-firstboot
./target/release/clusterkick build profiles/an-cluster.toml --out out \
	--helper "target/$TARGET/release/clusterkick-firstboot"
