#!/bin/sh
# Builds the example profile into out/an-cluster/: the clusterkick binary,
# the static first-boot helper for the nodes, then the cluster itself.
set -eu
cd "$(dirname "$0")/.."
TARGET=x86_64-unknown-linux-musl
# git does not keep file modes: give the example's secrets back theirs.
chmod 700 profiles/an-cluster.secrets
chmod 600 profiles/an-cluster.secrets/*
cargo build --release --quiet --bin clusterkick
scripts/build-helper.sh
./target/release/clusterkick build profiles/an-cluster.toml --out out \
	--helper "target/$TARGET/release/clusterkick-firstboot"
