#!/bin/sh
# Installs what the VM rig needs on the host (a Debian 12 machine), with
# apt-get from the configured mirror. Idempotent: a tool already present is
# skipped. qemu-system-x86 comes from bookworm unless one is installed
# already (a qemu-utils from bookworm-backports blocks bookworm's
# qemu-system-x86: then install qemu-system-x86 from bookworm-backports).
set -eu
need=
for tool in qemu-system-x86_64:qemu-system-x86 ipmi_sim:openipmi ipmitool:ipmitool \
	debootstrap:debootstrap crm_verify:pacemaker-cli-utils /lib/drbd/drbdadm-84:drbd-utils \
	corosync-keygen:corosync lvmconfig:lvm2 mkfs.ext4:e2fsprogs ss:iproute2 \
	shellcheck:shellcheck sfdisk:fdisk unshare:util-linux python3:python3; do
	path=${tool%%:*}
	pkg=${tool#*:}
	case $path in
	/*) [ -e "$path" ] || need="$need $pkg" ;;
	*) command -v "$path" >/dev/null 2>&1 || need="$need $pkg" ;;
	esac
done
if [ -n "$need" ]; then
	echo "vm-test: installing$need"
	apt-get update -qq
	# shellcheck disable=SC2086 # a list of package names
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
		--no-install-recommends $need >/dev/null
fi
