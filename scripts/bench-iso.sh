#!/bin/bash
# Benchmark of `clusterkick iso`: its time against a plain `cp` of the same
# base ISO, measured in the same run, as a ratio (target: at most 1.2).
#
# The base is a synthetic ISO made with xorriso from random data (SIZE_MB,
# default 512; a CentOS 5 DVD is about 4096), with an isolinux/ folder and
# El Torito boot record like a distribution DVD. Each of RUNS rounds times
# both commands once, in alternating order, after a sync and with the
# output removed first; the medians are compared.
#
# Usage: scripts/bench-iso.sh            (SIZE_MB=4096 RUNS=3 for a DVD size)
set -euo pipefail

SIZE_MB=${SIZE_MB:-512}
RUNS=${RUNS:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

for tool in xorriso python3; do
	command -v "$tool" >/dev/null || {
		echo "bench-iso: $tool is missing; install it (apt-get install $tool)" >&2
		exit 1
	}
done

cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --bin clusterkick
CK=$TARGET/release/clusterkick

WORK=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/bench-iso.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The base ISO: random payload in 64 MiB files, isolinux as on a CentOS DVD.
tree=$WORK/tree
mkdir -p "$tree/isolinux" "$tree/repodata" "$tree/CentOS"
if [ -f /usr/lib/ISOLINUX/isolinux.bin ]; then
	cp /usr/lib/ISOLINUX/isolinux.bin "$tree/isolinux/"
else
	head -c 24576 /dev/urandom >"$tree/isolinux/isolinux.bin"
fi
printf 'default linux\nprompt 1\ntimeout 600\nlabel linux\n  kernel vmlinuz\n  append initrd=initrd.img\n' \
	>"$tree/isolinux/isolinux.cfg"
echo kernel >"$tree/isolinux/vmlinuz"
echo initrd >"$tree/isolinux/initrd.img"
echo '<repomd/>' >"$tree/repodata/repomd.xml"
left=$SIZE_MB
i=0
while [ "$left" -gt 0 ]; do
	n=$((left < 64 ? left : 64))
	head -c "${n}M" /dev/urandom >"$tree/CentOS/payload-$i.rpm"
	left=$((left - n))
	i=$((i + 1))
done
base=$WORK/base.iso
xorriso -as mkisofs -quiet -o "$base" -b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table -R -J -V BENCH "$tree" 2>/dev/null
rm -rf "$tree"

# A profile and a stand-in first-boot helper (a minimal static x86-64 ELF).
cp "$ROOT/profiles/an-cluster.toml" "$WORK/"
cp -r "$ROOT/profiles/an-cluster.secrets" "$WORK/"
chmod 600 "$WORK/an-cluster.secrets/"*
python3 - "$WORK/helper" <<'PY'
import struct, sys
b = bytearray(120)
b[0:7] = b"\x7fELF\x02\x01\x01"
struct.pack_into("<HHIQQ", b, 16, 2, 62, 1, 0x400078, 64)
struct.pack_into("<HHH", b, 52, 64, 56, 1)
struct.pack_into("<IIQQQ", b, 64, 1, 5, 0, 0x400000, 0x400000)
b += b"bench"
struct.pack_into("<QQ", b, 96, len(b), len(b))
open(sys.argv[1], "wb").write(b)
PY

now() { date +%s%N; }
run_cp() {
	rm -f "$WORK/copy.iso"
	sync
	local t0
	t0=$(now)
	cp "$base" "$WORK/copy.iso"
	echo $(($(now) - t0))
}
run_iso() {
	rm -f "$WORK/new.iso"
	sync
	local t0
	t0=$(now)
	"$CK" iso "$WORK/an-cluster.toml" --base "$base" --out "$WORK/new.iso" --helper "$WORK/helper" 2>/dev/null
	echo $(($(now) - t0))
}

# One untimed round warms the page cache and the binary.
run_cp >/dev/null
run_iso >/dev/null
cps=()
isos=()
for r in $(seq 1 "$RUNS"); do
	if [ $((r % 2)) -eq 1 ]; then
		cps+=("$(run_cp)")
		isos+=("$(run_iso)")
	else
		isos+=("$(run_iso)")
		cps+=("$(run_cp)")
	fi
done

python3 - "$SIZE_MB" "$RUNS" "${cps[*]}" "${isos[*]}" <<'PY'
import statistics, sys
size, runs = sys.argv[1], sys.argv[2]
cp = [int(x) / 1e9 for x in sys.argv[3].split()]
iso = [int(x) / 1e9 for x in sys.argv[4].split()]
mc, mi = statistics.median(cp), statistics.median(iso)
print(f"base ISO: {size} MiB of random data; {runs} rounds, medians")
print(f"cp:              {mc:.3f} s   (runs: {' '.join(f'{x:.3f}' for x in cp)})")
print(f"clusterkick iso: {mi:.3f} s   (runs: {' '.join(f'{x:.3f}' for x in iso)})")
print(f"overhead:        {mi - mc:+.3f} s")
print(f"ratio:           {mi / mc:.2f}x   (target: at most 1.20x)")
PY
