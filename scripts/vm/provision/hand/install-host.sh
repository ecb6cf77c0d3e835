#!/bin/bash
# The hand-run provisioner's install step: puts the reference configuration
# (scripts/vm/reference/) and the node's identity into the node's root tree,
# the way an installer's late_command would before the first boot.
#
#   install-host.sh TREE NODE SECRETS
#
# TREE is the node's root file system (the rig makes its disk from it
# afterwards), NODE is node1 or node2, SECRETS the run's secrets folder
# (authkey, bmc1.pass, bmc2.pass; made by the rig, mode 0600).
set -euo pipefail
tree=${1:?usage: install-host.sh TREE NODE SECRETS}
node=${2:?}
secrets=${3:?}
ref=$(cd "$(dirname "$0")/../../reference" && pwd)
case $node in node1 | node2) ;; *) echo "install-host: bad node $node" >&2; exit 1 ;; esac
n=${node#node}

echo "$node" >"$tree/etc/hostname"
install -m 0644 "$ref/hosts" "$tree/etc/hosts"

# The rig's three NICs (see scripts/vm/README.md), matched by MAC address.
netdir=$tree/etc/systemd/network
mkdir -p "$netdir"
cat >"$netdir/10-cluster.network" <<NET
# Cluster network: corosync (knet), pacemaker, dlm.
[Match]
MACAddress=52:54:00:99:00:0$n
[Network]
Address=10.99.0.$n/24
LinkLocalAddressing=no
IPv6AcceptRA=no
NET
cat >"$netdir/20-storage.network" <<NET
# Storage network: DRBD.
[Match]
MACAddress=52:54:00:99:01:0$n
[Network]
Address=10.99.1.$n/24
LinkLocalAddressing=no
IPv6AcceptRA=no
NET
cat >"$netdir/30-mgmt.network" <<NET
# Management network (qemu user mode): reaches the BMCs at 10.0.2.2 only.
# No gateway: nothing is routed off the host.
[Match]
MACAddress=52:54:00:99:02:0$n
[Network]
Address=10.0.2.15/24
LinkLocalAddressing=no
IPv6AcceptRA=no
NET

install -m 0644 "$ref/corosync.conf" "$tree/etc/corosync/corosync.conf"
install -m 0400 "$secrets/authkey" "$tree/etc/corosync/authkey"
install -m 0644 "$ref/global_common.conf" "$tree/etc/drbd.d/global_common.conf"
install -m 0644 "$ref/r0.res" "$tree/etc/drbd.d/r0.res"
install -m 0644 "$ref/drbd-modules.conf" "$tree/etc/modules-load.d/drbd.conf"
install -m 0644 "$ref/lvmlocal.conf" "$tree/etc/lvm/lvmlocal.conf"
install -d -m 0755 "$tree/etc/systemd/system/resource-agents-deps.target.d"
install -m 0644 "$ref/resource-agents-deps.conf" \
	"$tree/etc/systemd/system/resource-agents-deps.target.d/99-cluster.conf"
install -d -m 0750 "$tree/etc/pacemaker"
install -m 0600 "$secrets/bmc1.pass" "$tree/etc/pacemaker/fence_node1.passwd"
install -m 0600 "$secrets/bmc2.pass" "$tree/etc/pacemaker/fence_node2.passwd"
install -d -m 0755 "$tree/etc/vmrig" "$tree/mnt/gfs"
install -m 0644 "$ref/cib.xml" "$tree/etc/vmrig/cib.xml"
