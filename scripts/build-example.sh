#!/bin/sh
# Builds every example profile into out/: the clusterkick binary, the static
# first-boot helper for the nodes, then the clusters, one folder each:
# out/an-cluster/ (el5-xen), out/an-cluster-el9/ (el9-kvm) and
# out/an-cluster-deb12/ (debian12-kvm).
set -eu
cd "$(dirname "$0")/.."
TARGET=x86_64-unknown-linux-musl
cargo build --release --quiet --bin clusterkick
scripts/build-helper.sh
for profile in profiles/*.toml; do
	# git does not keep file modes: give the example's secrets back theirs.
	secrets=${profile%.toml}.secrets
	if [ -d "$secrets" ]; then
		chmod 700 "$secrets"
		chmod 600 "$secrets"/*
	fi
	./target/release/clusterkick build "$profile" --out out \
		--helper "target/$TARGET/release/clusterkick-firstboot"
done
