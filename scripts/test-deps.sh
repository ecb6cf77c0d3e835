#!/bin/sh
# Installs every tool the tests run (the external validators among them) on
# a fresh Debian 12 machine. Idempotent: a tool already present is skipped.
set -eu

need_apt=
for tool in xmllint:libxml2-utils /lib/drbd/drbdadm-83:drbd-utils mkfs.gfs2:gfs2-utils \
	lvmconfig:lvm2 shellcheck:shellcheck corosync:corosync xorriso:xorriso \
	genisoimage:genisoimage gethostip:syslinux-utils wget:wget curl:curl \
	/usr/lib/ISOLINUX/isolinux.bin:isolinux losetup:mount grub-menulst2cfg:grub-common \
	nginx:nginx-light qemu-system-x86_64:qemu-system-x86 openssl:openssl \
	/usr/lib/syslinux/modules/bios/ldlinux.c32:syslinux-common \
	/usr/lib/python3/dist-packages/seccomp.cpython-311-x86_64-linux-gnu.so:python3-seccomp \
	crm_verify:pacemaker-cli-utils /lib/drbd/drbdadm-84:drbd-utils drbdadm:drbd-utils \
	nmcli:network-manager systemd-analyze:systemd debconf-set-selections:debconf pgrep:procps \
	/usr/lib/systemd/system/resource-agents-deps.target:resource-agents; do
	path=${tool%%:*}
	pkg=${tool#*:}
	case $path in
	/*) [ -e "$path" ] || need_apt="$need_apt $pkg" ;;
	*) command -v "$path" >/dev/null 2>&1 || need_apt="$need_apt $pkg" ;;
	esac
done
if [ -n "$need_apt" ]; then
	echo "test-deps: installing$need_apt"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
		--no-install-recommends $need_apt >/dev/null
fi

# pykickstart's ksvalidator, pinned, in its own venv.
KSVENV=${KSVENV:-/opt/ksvenv}
if ! "$KSVENV/bin/ksvalidator" --help >/dev/null 2>&1; then
	echo "test-deps: installing pykickstart 3.78 into $KSVENV"
	python3 -m venv "$KSVENV"
	"$KSVENV/bin/pip" install -q pykickstart==3.78
fi

# The first-boot helper for el5 is a static musl binary.
if ! rustup target list --installed | grep -qx x86_64-unknown-linux-musl; then
	echo "test-deps: adding the x86_64-unknown-linux-musl target"
	rustup target add x86_64-unknown-linux-musl
fi
