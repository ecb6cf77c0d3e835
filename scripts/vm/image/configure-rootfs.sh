#!/bin/bash
# Settings every rig node shares, baked into the cached image. Nothing here
# is cluster configuration: corosync.conf, DRBD, LVM, the CIB, names and
# addresses come from the provisioner (scripts/vm/provision/*), applied per
# node the way an installer's late_command would.
#
#   configure-rootfs.sh ROOT
set -euo pipefail
root=${1:?usage: configure-rootfs.sh ROOT}

# The root disk is a bare ext4 on /dev/vda (no partition table, no LVM).
cat >"$root/etc/fstab" <<'FSTAB'
/dev/vda	/	ext4	defaults,errors=remount-ro	0	1
FSTAB

# No sbd: its hooks would make corosync/pacemaker/dlm require it.
# shellcheck disable=SC2016 # a dpkg-query format, not a shell expansion
if chroot "$root" dpkg-query -W -f '${Status}\n' sbd 2>/dev/null | grep -q installed; then
	echo "configure-rootfs: sbd is installed; it must not be" >&2
	exit 1
fi
for unit in corosync pacemaker dlm; do
	if [ -e "$root/etc/systemd/system/$unit.service.requires/sbd.service" ]; then
		echo "configure-rootfs: sbd hook on $unit.service" >&2
		exit 1
	fi
done

# The cluster stack does not start by itself on the first boot: whoever sets
# the cluster up (the hand-run script, later the first-boot helper) starts it
# in order and enables corosync + pacemaker once the configuration is in.
# drbd.service, dlm and lvmlockd are pacemaker's to start, never systemd's.
# Nor do cluster-glue's logd (pacemaker logs to the journal) or ipmitool's
# ipmievd (nothing reads its events) run: one vCPU is little.
for unit in corosync.service pacemaker.service dlm.service lvmlockd.service \
	lvmlocks.service drbd.service \
	apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
	fstrim.timer man-db.timer logd.service ipmievd.service; do
	chroot "$root" systemctl disable "$unit" >/dev/null 2>&1 || true
done

# Their SysV init scripts go: with them, "systemctl enable" also runs
# update-rc.d, which makes systemd reload twice per unit (45 s each in a
# loaded TCG guest, stalling the resource agents that talk to systemd).
rm -f "$root/etc/init.d/corosync" "$root/etc/init.d/pacemaker"

# Networking: systemd-networkd; the per-node .network files come from the
# provisioner (matched by MAC address).
chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1

# The journal survives a reboot (a fenced node's log up to the fence is on
# the serial console instead).
mkdir -p "$root/var/log/journal"

# The rig's only way in: at boot, mount the host's 9p share on /share and
# hand over to the agent script found there (scripts/vm/guest/agent.sh), so
# that the harness can change without rebuilding this image.
mkdir -p "$root/share"
cat >"$root/usr/local/sbin/vmrig-boot" <<'BOOT'
#!/bin/sh
# Mounts the rig's 9p share and runs its agent. Exits quietly if there is no
# share (a node booted outside the rig).
set -eu
modprobe 9pnet_virtio 2>/dev/null || true
if ! mountpoint -q /share; then
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 share /share || exit 0
fi
[ -x /share/vmrig/agent.sh ] || exit 0
exec /share/vmrig/agent.sh
BOOT
chmod 0755 "$root/usr/local/sbin/vmrig-boot"
cat >"$root/etc/systemd/system/vmrig-agent.service" <<'UNIT'
[Unit]
Description=VM rig agent (runs the host's commands from the 9p share)
After=local-fs.target systemd-networkd.service
Wants=systemd-networkd.service

[Service]
Type=simple
ExecStart=/usr/local/sbin/vmrig-boot
Restart=on-failure
RestartSec=5
KillMode=process

[Install]
WantedBy=multi-user.target
UNIT
chroot "$root" systemctl enable vmrig-agent.service >/dev/null 2>&1

# A small initrd: only what mounts the root disk (virtio, ext4). The
# default (MODULES=most, 39 MB) takes many seconds to unpack and probe
# under TCG.
mkdir -p "$root/etc/initramfs-tools/conf.d"
echo 'MODULES=list' >"$root/etc/initramfs-tools/conf.d/vmrig.conf"
printf '%s\n' virtio_pci virtio_blk ext4 >>"$root/etc/initramfs-tools/modules"
chroot "$root" update-initramfs -u -k all >/dev/null 2>&1

# Undo what debootstrap and the build left for the chroot.
rm -f "$root/usr/sbin/policy-rc.d"
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
echo rig >"$root/etc/hostname"
passwd -R "$root" -l root >/dev/null
