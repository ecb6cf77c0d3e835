#!/bin/bash
# Where the first-boot helper's CPU goes on the VM rig's nodes (not a test):
# one clusterkick pass of the rig (as scripts/vm-bench.sh's, no kill) with
# Linux's perf attached to the helper on each node, then a summary per node
# (scripts/vm/perf-own-work.py). The helper is built with symbols and frame
# pointers (target/profile-helper); the host's perf, with the libraries the
# rig's image lacks, is copied into each node's tree. Profiling slows the
# helper: read the summary's shares, not the run's times.
#
#   sudo scripts/vm-profile.sh      (root, as scripts/vm-test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
run=${VMRIG_PROFILE_RUN:-/var/tmp/clusterkick-vm/profile}
perf=$(command -v perf || true)
[ -n "$perf" ] || { apt-get install -y -q linux-perf >/dev/null && perf=$(command -v perf); }
# perf is a wrapper script on some releases: then take the newest perf_X.Y.
perf_bin=$(readlink -f "$perf")
if [ "$(head -c 4 "$perf_bin" | od -An -c | tr -d ' ')" != '177ELF' ]; then
	for b in /usr/bin/perf_*; do perf_bin=$b; done
fi

echo "=== helper with symbols and frame pointers"
RUSTFLAGS="-C relocation-model=static -C force-frame-pointers=yes --remap-path-prefix=$top=/clusterkick --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo" \
	CARGO_TARGET_DIR=$top/target/profile-helper CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=1 \
	cargo build --release --quiet --target x86_64-unknown-linux-musl --bin clusterkick-firstboot
helper=$top/target/profile-helper/x86_64-unknown-linux-musl/release/clusterkick-firstboot
cargo build --release --quiet --bin clusterkick

echo "=== perf for the guests"
kit=$(mktemp -d /var/tmp/clusterkick-perfkit.XXXXXX)
trap 'rm -rf "$kit"' EXIT
mkdir -p "$kit/lib"
cp "$perf_bin" "$kit/perf"
# The image's own libraries are the guest's; only the others go along.
image=
for d in "${VMRIG_CACHE:-/var/cache/clusterkick-vm}"/*/rootfs; do [ -d "$d" ] && image=$d; done
ldd "$perf_bin" | awk '$3 ~ /^\// { print $3 }' | while read -r lib; do
	b=${lib##*/}
	if [ -z "$image" ] || ! ls "$image"/lib/x86_64-linux-gnu/"$b" "$image"/usr/lib/x86_64-linux-gnu/"$b" >/dev/null 2>&1; then
		cp -L "$lib" "$kit/lib/"
	fi
done

echo "=== one clusterkick pass with perf attached"
CLUSTERKICK_FIRSTBOOT=$helper VMRIG_PERF=$kit VMRIG_BENCH=1 VMRIG_KILL=0 VMRIG_PROVISION=clusterkick \
	VMRIG_RUN=$run scripts/vm-test.sh

symfs=$(mktemp -d /var/tmp/clusterkick-symfs.XXXXXX)
trap 'rm -rf "$kit" "$symfs"' EXIT
mkdir -p "$symfs/usr/sbin"
cp "$helper" "$symfs/usr/sbin/clusterkick-firstboot"
for d in "$run"/share/perf/node*; do
	[ -d "$d" ] || continue
	for data in "$d"/helper-*.perf; do
		[ -e "$data" ] || continue
		echo
		echo "=== ${d##*/}: ${data##*/}"
		"$perf_bin" script -i "$data" --symfs="$symfs" --kallsyms="$d/kallsyms" -F ip,sym 2>/dev/null >"$data.txt"
		scripts/vm/perf-own-work.py "$data.txt"
	done
done
