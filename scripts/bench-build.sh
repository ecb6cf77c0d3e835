#!/bin/sh
# Benchmark: build a fleet of N generated two-node profiles in one run and
# compare with a plain `cp -r` of the same output tree, measured in the same
# run (this machine is noisy: read the ratio, not the seconds).
#   scripts/bench-build.sh [N=500] [ROUNDS=5]
set -eu
cd "$(dirname "$0")/.."
N=${1:-500}
ROUNDS=${2:-5}
cargo build --release --quiet --bin clusterkick
BIN=$PWD/target/release/clusterkick
HELPER=target/x86_64-unknown-linux-musl/release/clusterkick-firstboot
if [ ! -f "$HELPER" ]; then
	scripts/build-helper.sh
fi
HELPER=$PWD/$HELPER
W=$(mktemp -d -p "${BENCH_DIR:-/dev/shm}")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/fleet"
# N profiles: the example with its own cluster name, node names and
# addresses (10.<i/250>.<i%250>.x keeps every cluster's networks distinct).
i=1
while [ "$i" -le "$N" ]; do
	name=$(printf 'bench-%04d' "$i")
	a=$((i / 250 + 20))
	b=$((i % 250))
	sed -e "s/^name = \"an-cluster\"/name = \"$name\"/" \
		-e "s/an-node0\([12]\)/$name-n\1/g" -e "s/an-cluster.secrets/$name.secrets/" \
		-e "s/10\.0\.0\./$a.$b.0./g; s/10\.0\.0\.0\//$a.$b.0.0\//" \
		profiles/an-cluster.toml >"$W/fleet/$name.toml"
	cp -r profiles/an-cluster.secrets "$W/fleet/$name.secrets"
	chmod 600 "$W/fleet/$name.secrets/motoko.passwd"
	i=$((i + 1))
done
"$BIN" check "$W/fleet/bench-0001.toml"

now() { date +%s%N; }
best_build=
best_copy=
best_copy_a=
best_rebuild=
r=1
while [ "$r" -le "$ROUNDS" ]; do
	rm -rf "$W/out" "$W/copy" "$W/copy-a"
	t0=$(now)
	"$BIN" build "$W"/fleet/*.toml --out "$W/out" --helper "$HELPER" 2>/dev/null
	t1=$(now)
	# The same fleet again into the same DIR: every old tree is checked
	# against its manifest, swapped out and removed.
	"$BIN" build "$W"/fleet/*.toml --out "$W/out" --helper "$HELPER" 2>/dev/null
	t1b=$(now)
	rb=$((t1b - t1))
	if [ -z "$best_rebuild" ] || [ "$rb" -lt "$best_rebuild" ]; then best_rebuild=$rb; fi
	t1=$(now)
	cp -r "$W/out" "$W/copy"
	t2=$(now)
	# cp -r copies the shared helper once per cluster; cp -a keeps the hard
	# links as the build made them: report both baselines.
	cp -a "$W/out" "$W/copy-a"
	t3=$(now)
	b=$((t1 - t0))
	c=$((t2 - t1))
	a=$((t3 - t2))
	if [ -z "$best_build" ] || [ "$b" -lt "$best_build" ]; then best_build=$b; fi
	if [ -z "$best_copy" ] || [ "$c" -lt "$best_copy" ]; then best_copy=$c; fi
	if [ -z "$best_copy_a" ] || [ "$a" -lt "$best_copy_a" ]; then best_copy_a=$a; fi
	r=$((r + 1))
done
files=$(find "$W/out" -type f | wc -l)
bytes=$(du -sb "$W/out" | cut -f1)
nodes=$((N * 2))
awk -v b="$best_build" -v rb="$best_rebuild" -v c="$best_copy" -v a="$best_copy_a" -v n="$nodes" -v f="$files" -v by="$bytes" 'BEGIN {
	printf "fleet: %d clusters, %d nodes, %d files, %.1f MB (helper hard-linked)\n", n / 2, n, f, by / 1e6
	printf "build: %.3f s  -> %.0f nodes/s   (best of rounds)\n", b / 1e9, n / (b / 1e9)
	printf "rebuild into the same DIR: %.3f s  -> %.2fx the first build\n", rb / 1e9, rb / b
	printf "cp -r: %.3f s   cp -a: %.3f s\n", c / 1e9, a / 1e9
	printf "ratio build / cp -r: %.2fx   build / cp -a: %.2fx   (target: <= 3x)\n", b / c, b / a
}'
