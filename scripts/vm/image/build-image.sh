#!/bin/bash
# Builds the Debian 12 (bookworm) image the VM rig boots: a root tree made by
# debootstrap plus the cluster stack installed with apt inside it, and the
# kernel and initrd copied out of it for qemu's direct kernel boot.
#
#   build-image.sh OUTDIR
#
# Writes OUTDIR/rootfs/ (the tree, root-owned), OUTDIR/vmlinuz,
# OUTDIR/initrd.img and OUTDIR/packages.txt, then OUTDIR/complete last: a
# folder without it is a broken build and is removed by the caller.
# Only the Debian mirror configured in /etc/apt/sources.list.d/debian.sources
# is used (no other network). Needs root and debootstrap.
set -euo pipefail

out=${1:?usage: build-image.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$out/rootfs

sources=/etc/apt/sources.list.d/debian.sources
[ -r "$sources" ] || { echo "build-image: $sources is missing: it names the Debian mirror to use" >&2; exit 1; }
# The first URIs line of the deb822 file is the main archive.
mirror=$(sed -n 's/^URIs:[[:space:]]*//p' "$sources" | head -n1)
[ -n "$mirror" ] || { echo "build-image: no URIs: line in $sources" >&2; exit 1; }

t0=$(date +%s)
mkdir -p "$out"
rm -rf "$root"

# minbase: apt, dpkg, coreutils. The cluster stack is installed with apt in
# the chroot below, not with --include: debootstrap does not resolve virtual
# packages (python3-cryptography needs python3-cffi-backend-api-*), apt does.
debootstrap --variant=minbase --include=systemd-sysv,udev,kmod \
	bookworm "$root" "$mirror" >"$out/debootstrap.log" 2>&1 || {
	tail -n 30 "$out/debootstrap.log" >&2
	echo "build-image: debootstrap failed (log: $out/debootstrap.log)" >&2
	exit 1
}
t1=$(date +%s)
echo "build-image: debootstrap $((t1 - t0)) s"

# Same suites as the host (bookworm, -updates, -security) from the same mirror.
rm -f "$root/etc/apt/sources.list"
cp "$sources" "$root/etc/apt/sources.list.d/debian.sources"

# No daemon may start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"

cleanup() {
	if mountpoint -q "$root/proc"; then umount "$root/proc"; fi
}
trap cleanup EXIT
mount -t proc proc "$root/proc"

# The stack, from the issue: corosync 3 (knet), pacemaker 2.1 with its CLI,
# dlm, lvmlockd, GFS2, drbd-utils 9 (the kernel has DRBD 8.4), the OCF agents
# (resource-agents: LVM-activate, lvmlockd, Filesystem; pacemaker-resource-
# agents: controld; drbd-utils: linbit:drbd), fence_ipmilan (+ ipmitool).
# No sbd: its package hooks itself into corosync/pacemaker/dlm.service.requires.
# No pcs: 20-40 s a call under TCG; the configuration is files and one CIB.
packages=(
	linux-image-amd64 initramfs-tools
	iproute2 iputils-ping iptables procps psmisc util-linux e2fsprogs
	corosync pacemaker pacemaker-cli-utils pacemaker-resource-agents
	resource-agents fence-agents ipmitool
	dlm-controld lvm2 lvm2-lockd gfs2-utils drbd-utils
	# What the debian12-kvm preseed installs besides, that the clusterkick
	# provisioner's nodes use: ifupdown + bridge-utils (the overlay's
	# /etc/network/interfaces), wget (the post-install script's fetch). Not
	# its KVM host packages (qemu, libvirt): no guest runs in the rig.
	ifupdown bridge-utils wget
)
chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 \
	apt-get update -qq >"$out/apt.log" 2>&1
chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 \
	apt-get install -y -q --no-install-recommends "${packages[@]}" >>"$out/apt.log" 2>&1 || {
	tail -n 30 "$out/apt.log" >&2
	echo "build-image: apt-get install in the chroot failed (log: $out/apt.log)" >&2
	exit 1
}
t2=$(date +%s)
echo "build-image: cluster stack install $((t2 - t1)) s"

"$here/configure-rootfs.sh" "$root"

# shellcheck disable=SC2016 # a dpkg-query format
chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' >"$out/packages.txt"
chroot "$root" apt-get clean
rm -rf "$root/var/lib/apt/lists/"*
cleanup
trap - EXIT

# Direct kernel boot: qemu -kernel/-initrd (no boot loader in the rig).
kver=$(find "$root/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n1)
cp "$root/boot/vmlinuz-$kver" "$out/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$out/initrd.img"
for mod in drbd dlm gfs2 9p 9pnet_virtio; do
	[ -n "$(find "$root/lib/modules/$kver" -name "$mod.ko*" -print -quit)" ] ||
		{ echo "build-image: kernel $kver has no $mod module" >&2; exit 1; }
done
echo "$kver" >"$out/kernel-version"
t3=$(date +%s)
echo "build-image: configure + kernel $((t3 - t2)) s; total $((t3 - t0)) s"
touch "$out/complete"
