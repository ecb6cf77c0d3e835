#!/bin/bash
# The hand-run setup: the commands a first-boot helper would run, in order,
# by hand, on both nodes at once (the rig starts it on both; the nodes meet
# at barriers on the 9p share). Every destructive step is guarded by a check
# of the real state right before it. It is also the benchmark baseline.
set -euo pipefail
# shellcheck source=scripts/vm/guest/lib.sh
. /share/vmrig/lib.sh
t0=$(date +%s)
step() { log "=== $* (+$(($(date +%s) - t0))s)"; }

step "links"
wait_for "peer on the cluster link" 300 ping -c1 -W2 "$peer_cluster_ip"
wait_for "peer on the storage link" 300 ping -c1 -W2 "$peer_storage_ip"

step "DRBD metadata"
run modprobe drbd
grep -q '^version: 8\.4\.' /proc/drbd || die "DRBD 8.4 expected: $(head -n1 /proc/drbd)"
if drbdadm dump-md r0 >/dev/null 2>&1; then
	log "r0 already has metadata: not creating it"
else
	# No DRBD metadata: create it only on a disk that holds nothing.
	sig=$(wipefs --noheadings --output TYPE /dev/vdb 2>/dev/null || true)
	[ -z "$sig" ] || die "/dev/vdb holds '$sig' and no DRBD metadata: refusing to create-md over it"
	run drbdadm create-md r0 </dev/null
fi
barrier md 600

step "DRBD connect, initial sync choice"
run drbdadm up r0
wait_for "r0 connected" 300 drbd_connected
gi=$(drbdadm get-gi r0)
log "r0 generation identifiers: $gi"
echo "$gi" >"$sync_dir/gi.$me"
barrier gi 300
if [ "$me" = node1 ]; then
	peer_gi=$(cat "$sync_dir/gi.$peer")
	if drbd_line | grep -q 'ds:Inconsistent/Inconsistent' &&
		[ "${gi%%:*}" = 0000000000000004 ] && [ "${peer_gi%%:*}" = 0000000000000004 ]; then
		# Two brand-new, empty disks: nothing to copy, skip the full sync.
		run drbdadm -- --clear-bitmap new-current-uuid r0
	elif drbd_line | grep -q 'ds:Inconsistent/Inconsistent'; then
		die "both sides Inconsistent but not brand-new ($gi / $peer_gi): a human must choose whose data wins"
	else
		log "not brand-new ($(drbd_line)): no sync shortcut, DRBD syncs by itself"
	fi
fi
wait_for "r0 UpToDate on both" 1800 drbd_uptodate_both
barrier synced 600
# pacemaker's ocf:linbit:drbd brings r0 up again.
run drbdadm down r0
barrier drbd-down 300

step "corosync"
run corosync -t
run systemctl start corosync
wait_for "both members, quorate" 300 corosync_two_members
step "pacemaker"
run systemctl start pacemaker
wait_for "both nodes online in pacemaker" 600 both_online
barrier pacemaker 600

step "CIB"
if [ "$me" = node1 ]; then
	if cibadmin -Q -o resources | grep -q '<primitive'; then
		log "the CIB already has resources: not loading it again"
	else
		# One call: the configuration section of the reviewed document.
		log "+ cibadmin --replace --scope configuration --xml-text <the configuration of /etc/vmrig/cib.xml>"
		cibadmin --replace --scope configuration \
			--xml-text "$(sed -n '/<configuration>/,/<\/configuration>/p' /etc/vmrig/cib.xml)"
	fi
fi
barrier cib 600

step "wait for DRBD Promoted and the locking clone on both"
# node1 watches pacemaker (every 10 s); node2 waits for node1's word.
if [ "$me" = node1 ]; then
	locking_up() { res_on_both drbd_r0 Promoted && res_on_both dlm Started && res_on_both lvmlockd Started; }
	WAIT_EVERY=10 wait_for "drbd_r0 Promoted, dlm + lvmlockd Started on both" 1800 locking_up
fi
barrier locking-up 1800
drbd_primary_both || die "DRBD not Primary/Primary: $(drbd_line)"

step "shared VG, LV, GFS2"
if [ "$me" = node1 ]; then
	if vgs vgc >/dev/null 2>&1; then
		log "VG vgc exists: not creating it"
	else
		sig=$(wipefs --noheadings --output TYPE /dev/drbd0 2>/dev/null || true)
		[ -z "$sig" ] || die "/dev/drbd0 holds '$sig' but no VG vgc: refusing to pvcreate over it"
		run pvcreate /dev/drbd0
		run vgcreate --shared vgc /dev/drbd0
	fi
	run vgchange --lock-start vgc
	if lvs vgc/lv1 >/dev/null 2>&1; then
		log "LV vgc/lv1 exists: not creating it"
	else
		run lvcreate --activate n -L 800M -n lv1 vgc
	fi
	run lvchange --activate sy vgc/lv1
	fstype=$(blkid -p -o value -s TYPE /dev/vgc/lv1 2>/dev/null || true)
	case $fstype in
	'') run mkfs.gfs2 -O -p lock_dlm -t vmrig:gfs0 -j 2 -J 16 /dev/vgc/lv1 ;;
	gfs2) log "vgc/lv1 already holds GFS2: not making it again" ;;
	*) die "vgc/lv1 holds '$fstype': refusing to mkfs.gfs2 over it" ;;
	esac
	# pacemaker activates it from now on.
	run lvchange --activate n vgc/lv1
fi
barrier vg 900
[ "$me" = node1 ] || run vgchange --lock-start vgc

step "hand to pacemaker"
if [ "$me" = node1 ]; then
	run crm_resource --resource shared_vg1-clone --meta --delete-parameter target-role
fi
# From now on a boot starts the cluster (and a fenced node rejoins). No
# daemon-reload: the units are loaded already; the links are for the boot.
run systemctl enable --no-reload corosync.service pacemaker.service
if [ "$me" = node1 ]; then
	WAIT_EVERY=10 wait_for "every resource Started on both nodes" 1800 cluster_all_started
fi
barrier all-started 1800
python3 /share/vmrig/state.py
step "done"
