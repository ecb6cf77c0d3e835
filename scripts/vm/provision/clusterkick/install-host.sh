#!/bin/bash
# The clusterkick provisioner's install step for one node, standing in for
# debian-installer where the rig has none:
#   1. the partitioner: DATA (the node's /dev/vdb) gets the layout the
#      node's preseed asks partman for: /boot (partition 1) and an LVM PV
#      (partition 2) holding the node's VG with swap (lv00) and / (lv01),
#      the rest free for DRBD's backing LV, which clusterkick-firstboot
#      makes. (The rig's root file system is the image's /dev/vda.)
#   2. the late_command: the node's preseed's own `preseed/late_command`,
#      word for word, with d-i's `in-target` as `chroot TREE`. It fetches
#      the post-install script from the profile's overlay_url, checks its
#      sha256 and runs it, and the script fetches and checks the overlay
#      and the helper. The build folder is served on 127.0.0.1:9401 in a
#      network namespace of this step's own (nothing else on the host can
#      reach it: the overlay holds the cluster's secrets).
#
#   install-host.sh TREE NODE SECRETS DATA
set -euo pipefail
tree=${1:?usage: install-host.sh TREE NODE SECRETS DATA}
node=${2:?}
data=${4:?}
case $node in node1 | node2) ;; *) echo "install-host: bad node $node" >&2; exit 1 ;; esac
run=$(cd "$(dirname "$data")/.." && pwd)
out=$run/clusterkick/out
build=$out/vmrig
fqdn=$node.rig.test
say() { echo "install-host $node: $*"; }

preseed=$(grep -rl --include='*.preseed' "^d-i netcfg/get_hostname string $node\$" "$build" 2>/dev/null | head -n1 || true)
[ -n "$preseed" ] || preseed=$(grep -rl --include='*.preseed' "$fqdn" "$build" | head -n1 || true)
[ -n "$preseed" ] || {
	echo "install-host: no preseed for $fqdn in $build" >&2
	exit 1
}
say "preseed ${preseed#"$out"/}"
late=$(sed -n 's/^d-i preseed\/late_command string //p' "$preseed")
vg=$(sed -n 's/^d-i partman-auto-lvm\/new_vg_name string //p' "$preseed")
if [ -z "$late" ] || [ -z "$vg" ]; then
	echo "install-host: $preseed has no late_command or VG name" >&2
	exit 1
fi
case $late in
"in-target "*) ;;
*)
	echo "install-host: the late_command does not start with in-target: $late" >&2
	exit 1
	;;
esac

# ---- 1. the partitioner's work on DATA (sizes from the profile's [disks])
size_of() { sed -n "s/^$1 *= *\"\\([0-9]*\\)M\"/\\1/p" "$run/clusterkick/vmrig.toml"; }
boot_mib=$(size_of boot_size)
swap_mib=$(size_of swap_size)
root_mib=$(size_of root_size)
if [ -z "$boot_mib" ] || [ -z "$swap_mib" ] || [ -z "$root_mib" ]; then
	echo "install-host: the profile's disk sizes are not in MiB (M)" >&2
	exit 1
fi
n=${node#node}
printf 'label: dos\nlabel-id: 0x9900000%s\nstart=2048, size=%sMiB, type=83, bootable\ntype=8e\n' "$n" "$boot_mib" |
	sfdisk -q "$data" >/dev/null
read -r start sectors < <(sfdisk -d "$data" | sed -n 's/.*2 : start= *\([0-9]*\), size= *\([0-9]*\).*/\1 \2/p')
loop=$(losetup --find --show --offset $((start * 512)) --sizelimit $((sectors * 512)) "$data")
# This LVM sees only the loop device, and never asks device-mapper (the host
# may have none): the LVs are made inactive, as partman leaves nothing
# active in the installed system either.
export LVM_SUPPRESS_FD_WARNINGS=1
lvmq() { "$@" --devices "$loop" --config 'global { use_lvmlockd = 0 activation = 0 } devices { use_devicesfile = 0 }'; }
rc=0
{
	lvmq pvcreate -q "$loop" &&
		lvmq vgcreate -q "$vg" "$loop" &&
		lvmq lvcreate -q -an -Zn -L "${swap_mib}M" -n lv00 "$vg" &&
		lvmq lvcreate -q -an -Zn -L "${root_mib}M" -n lv01 "$vg"
} >/dev/null 2>"$run/$node/partition.err" || rc=$?
losetup -d "$loop"
[ $rc = 0 ] || {
	cat "$run/$node/partition.err" >&2
	echo "install-host: making $vg on $data failed" >&2
	exit 1
}
say "$data: /boot ${boot_mib} MiB, PV with VG $vg (lv00 swap ${swap_mib} MiB, lv01 / ${root_mib} MiB; the rest free)"

# ---- the image as debian-installer leaves a system that uses ifupdown: the
# rig's image enables systemd-networkd for the hand-run provisioner, whose
# wait-online service (with no link of networkd's to wait for) would hold
# network-online.target, and so the helper, for its 2-minute timeout.
chroot "$tree" systemctl disable --quiet systemd-networkd-wait-online.service

# ---- 2. the late_command, as d-i runs it (in-target = chroot /target with
# /proc, /sys and /dev mounted), in a network namespace with the build
# folder served on its loopback.
for m in proc sys dev; do mount --bind "/$m" "$tree/$m"; done
undo() { for m in dev sys proc; do umount -l "$tree/$m" 2>/dev/null || true; done; }
trap undo EXIT
cmd="chroot $tree ${late#in-target }"
rc=0
# shellcheck disable=SC2016 # expanded by the inner bash
unshare --net -- bash -c '
	set -u
	ip link set lo up
	python3 -m http.server 9401 --bind 127.0.0.1 --directory "$1" >"$2/http.log" 2>&1 &
	srv=$!
	for _ in $(seq 1 100); do
		python3 -c "import socket; socket.create_connection((\"127.0.0.1\", 9401), 1)" 2>/dev/null && break
		sleep 0.1
	done
	sh -c "$3"
	rc=$?
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	exit $rc' late "$out" "$run/$node" "$cmd" >"$run/$node/late_command.log" 2>&1 || rc=$?
sed "s/^/  /" "$run/$node/late_command.log"
[ $rc = 0 ] || {
	echo "install-host: $node's late_command failed (exit $rc)" >&2
	exit 1
}
[ -s "$tree/etc/clusterkick/post-done" ] || {
	echo "install-host: the post-install script did not finish (no /etc/clusterkick/post-done)" >&2
	exit 1
}
say "late_command done: overlay $(cat "$tree/etc/clusterkick/post-done")"

# ---- profiling only (scripts/vm-profile.sh sets VMRIG_PERF to a folder
# holding perf and the libraries the image lacks): perf record follows the
# helper from its start, and setup.sh copies its data to the share.
if [ -n "${VMRIG_PERF:-}" ]; then
	mkdir -p "$tree/opt/clusterkick-perf" "$tree/etc/systemd/system/clusterkick-firstboot.service.d"
	cp -r "$VMRIG_PERF/." "$tree/opt/clusterkick-perf/"
	# shellcheck disable=SC2016 # $MAINPID is systemd's
	printf '%s\n' '[Service]' \
		'ExecStartPost=/bin/sh -c '"'"'LD_LIBRARY_PATH=/opt/clusterkick-perf/lib nohup /opt/clusterkick-perf/perf record -q --no-inherit -F 4000 -e cpu-clock --call-graph fp -p $MAINPID -o /var/tmp/helper-$MAINPID.perf >/var/tmp/perf-$MAINPID.log 2>&1 &'"'" \
		>"$tree/etc/systemd/system/clusterkick-firstboot.service.d/perf.conf"
	say "perf record attached to the helper (profiling run)"
fi
