#!/bin/bash
# The VM rig's proof run (issue 11): two Debian 12 VMs under QEMU (TCG),
# private links on loopback, a simulated IPMI BMC each, and the pacemaker
# GFS2 stack set up by the provisioner (default: the hand-run script), then
#   1. both nodes: every resource Started on both, DRBD Primary/Primary
#      UpToDate, GFS2 mounted on both, files cross-checked by checksum;
#   2. fencing through fence_ipmilan: node2 cut off, node1 fences it (its
#      qemu really powers off), GFS2 stays writable on node1, node2 comes
#      back through its BMC and rejoins by itself, no DRBD split brain;
#   3. a reboot of both nodes: everything comes back, nothing made again,
#      the data intact.
# Prints PASS/FAIL per check with its phase time, the phase times, and one
# closing line "N passed, N failed"; exits non-zero on any failure.
#
# Environment: VMRIG_CACHE (image cache, default /var/cache/clusterkick-vm),
# VMRIG_RUN (run folder, default /var/tmp/clusterkick-vm/run; logs stay
# there), VMRIG_PROVISION (scripts/vm/provision/<name>, default hand),
# VMRIG_MEM (MiB per VM, default 1536). Needs root (apt-get, debootstrap).
# shellcheck disable=SC2317 # check() runs functions by name
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=scripts/vm/lib.sh
. scripts/vm/lib.sh

[ "$(id -u)" = 0 ] || {
	echo "vm-test: run as root (debootstrap, apt-get, qemu's 9p share)" >&2
	exit 2
}
[ -d "scripts/vm/provision/$VMRIG_PROVISION" ] || {
	echo "vm-test: no provisioner scripts/vm/provision/$VMRIG_PROVISION" >&2
	exit 2
}
new_run_dir
trap teardown EXIT
trap 'exit 130' INT TERM
log "run folder $RUN, provisioner $VMRIG_PROVISION"

# The nodes' journals (every boot) into the run folder, while they run.
collect_logs() {
	local n id
	for n in "${NODES[@]}"; do
		qemu_pid "$n" >/dev/null || continue
		id=$(vm_start "$n" "journalctl --no-pager -o short-monotonic >/share/node$n/journal.txt 2>&1")
		vm_wait "$n" "$id" 120 >/dev/null 2>&1 || true
		[ -e "$SHARE/node$n/journal.txt" ] && mv "$SHARE/node$n/journal.txt" "$RUN/node$n/journal.txt"
	done
}

finish() {
	collect_logs
	teardown
	trap - EXIT
	echo
	echo "phase times:"
	printf '  %s\n' "${PHASES[@]}"
	echo "logs: $RUN (rig.log, results.txt, power.log, node*/serial.log, node*/commands.log, node*/journal.txt)"
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" = 0 ] && [ "$PASSED" -gt 0 ]
	exit $?
}

# Guest-side helpers used by the checks below.
G='. /share/vmrig/lib.sh;'

# state_both LABEL: every resource Started on both, seen from each node.
state_both() {
	local n good=0
	for n in "${NODES[@]}"; do
		if vm_exec "$n" 300 "python3 /share/vmrig/state.py --no-failures" >"$RUN/node$n/state.txt" 2>&1; then
			good=$((good + 1))
		else
			sed "s/^/  node$n: /" "$RUN/node$n/state.txt" >&2
		fi
	done
	[ "$good" = 2 ]
}
drbd_both() {
	local n line good=0
	for n in "${NODES[@]}"; do
		line=$(vm_exec "$n" 60 "$G drbd_line")
		log "node$n /proc/drbd: $line"
		grep -q 'cs:Connected ro:Primary/Primary ds:UpToDate/UpToDate' <<<"$line" && good=$((good + 1))
	done
	[ "$good" = 2 ]
}
gfs2_both() {
	local n good=0
	for n in "${NODES[@]}"; do
		vm_exec "$n" 60 "findmnt -n -t gfs2 -o SOURCE,TARGET /mnt/gfs" >/dev/null && good=$((good + 1))
	done
	[ "$good" = 2 ]
}
# write_file N NAME MIB: node N writes random data to /mnt/gfs/NAME (fsync)
# and prints the sha256 of what it wrote (from its local copy).
write_file() {
	vm_exec "$1" 600 "set -e; dd if=/dev/urandom of=/root/$2 bs=1M count=$3 status=none
dd if=/root/$2 of=/mnt/gfs/$2 bs=1M conv=fsync status=none
sha256sum /root/$2 | cut -d' ' -f1; rm -f /root/$2" | tail -n1
}
read_sum() { vm_exec "$1" 600 "sha256sum /mnt/gfs/$2 | cut -d' ' -f1" | tail -n1; }
split_brains() {
	# Kernel messages of every boot (the journal is persistent).
	vm_exec "$1" 120 "journalctl --no-pager -q _TRANSPORT=kernel | grep -ci 'split-brain' || true" | tail -n1
}

# ---------------------------------------------------------------- host tools
phase_begin host-deps
scripts/vm/host-deps.sh 2>&1 | tee -a "$RUN/rig.log" >&2 || die "installing the host's tools failed"
phase_end

# --------------------------------------------------------------------- image
phase_begin image
ensure_image
PHASE_NAME="image ($IMAGE_STATE)"
result "image: Debian 12 with the cluster stack ($IMAGE_STATE, $(cat "$IMG/kernel-version"))" OK
phase_end

# ------------------------------------------------- reference files, on host
phase_begin reference-files
ref=scripts/vm/reference
if out=$(crm_verify --xml-file "$ref/cib.xml" -V 2>&1); then result "cib.xml: crm_verify --xml-file" OK; else result "cib.xml: crm_verify --xml-file" FAIL "$out"; fi
if out=$(/lib/drbd/drbdadm-84 -c /dev/stdin dump all <<<"$(cat "$ref/global_common.conf" "$ref/r0.res")" 2>&1); then result "r0.res: DRBD 8.4 parser (drbdadm-84 dump)" OK; else result "r0.res: DRBD 8.4 parser" FAIL "$out"; fi
# corosync -t on the host needs the host in the nodelist and a key: a copy
# with node1's address on loopback and the run's authkey (the real file is
# checked again by corosync -t inside the guests).
sed -e 's/ring0_addr: 10\.99\.0\.1$/ring0_addr: 127.0.0.1/' \
	-e "s|^\tcrypto_hash: sha256|&\n\tkeyfile: $RUN/secrets/authkey|" "$ref/corosync.conf" >"$RUN/corosync-hostcheck.conf"
make_secrets
if out=$(corosync -c "$RUN/corosync-hostcheck.conf" -t 2>&1); then result "corosync.conf: corosync -t" OK; else result "corosync.conf: corosync -t" FAIL "$out"; fi
mkdir -p "$RUN/lvmcheck"
cp /etc/lvm/lvm.conf "$ref/lvmlocal.conf" "$RUN/lvmcheck/"
if out=$(LVM_SYSTEM_DIR=$RUN/lvmcheck lvmconfig --validate 2>&1 &&
	LVM_SYSTEM_DIR=$RUN/lvmcheck lvmconfig global/use_lvmlockd devices/global_filter 2>&1) &&
	grep -q 'use_lvmlockd=1' <<<"$out" && grep -q 'a|^/dev/drbd' <<<"$out"; then
	result "lvmlocal.conf: lvmconfig --validate, overrides lvm.conf" OK
else
	result "lvmlocal.conf: lvmconfig" FAIL "$out"
fi
if out=$(shellcheck -x scripts/vm-test.sh scripts/vm/*.sh scripts/vm/image/*.sh scripts/vm/guest/*.sh scripts/vm/provision/*/*.sh 2>&1); then result "rig scripts: shellcheck" OK; else result "rig scripts: shellcheck" FAIL "$out"; fi
phase_end

# --------------------------------------------------------------------- disks
if [ -x "scripts/vm/provision/$VMRIG_PROVISION/prepare-host.sh" ]; then
	phase_begin "prepare ($VMRIG_PROVISION)"
	if prepare_host; then
		result "prepare: the $VMRIG_PROVISION provisioner's host side" OK
	else
		result "prepare: the $VMRIG_PROVISION provisioner's host side" FAIL
		finish
	fi
	phase_end
fi
phase_begin disks
stage_share
for n in "${NODES[@]}"; do make_disks "$n" & done
wait || true
for n in "${NODES[@]}"; do
	[ -s "$RUN/node$n/root.raw" ] || die "node$n: no root disk"
	write_start_script "$n"
done
phase_end

# ---------------------------------------------------------------------- boot
phase_begin boot
check_ports
for n in "${NODES[@]}"; do bmc_start "$n"; done
power_watch_start
for n in "${NODES[@]}"; do
	bmc_power "$n" on >>"$RUN/rig.log" 2>&1 || die "bmc$n: power on failed"
done
log "both VMs powered on through their BMCs"
ok=OK
for n in "${NODES[@]}"; do wait_boot "$n" 1 900 || ok=FAIL; done
result "boot: both VMs powered on by IPMI, agents up" $ok
[ $ok = OK ] || finish
# The nodes' names in pacemaker (uname -n: node1, or node1.rig.test for the
# clusterkick provisioner).
declare -A NAME
for n in "${NODES[@]}"; do NAME[$n]=$(vm_exec "$n" 60 "uname -n" | tail -n1); done
log "node names: ${NAME[1]} ${NAME[2]}"
phase_end

# --------------------------------------------------------------------- setup
phase_begin "setup ($VMRIG_PROVISION)"
# Check 3's fault, with the clusterkick provisioner: node1's helper is killed
# (SIGKILL) right after its `drbdadm create-md` is recorded done in its
# state file, then started again as a boot or an admin would.
KILL_TEST=0
if [ "$VMRIG_PROVISION" = clusterkick ] && [ "${VMRIG_KILL:-1}" = 1 ]; then
	KILL_TEST=1
	kill_id=$(vm_start 1 "bash /share/vmrig/kill-helper.sh")
fi
ids=()
for n in "${NODES[@]}"; do ids+=("$(vm_start "$n" "bash /share/vmrig/provision/setup.sh")"); done
# Both are watched together: once one node's helper has failed for good,
# the pair cannot finish without a human, and the other is not waited for
# (a CI run once waited 40 more minutes on a peer stuck at a barrier).
ok=OK
declare -A SETUP_DONE=()
setup_start=$SECONDS
while [ ${#SETUP_DONE[@]} -lt ${#NODES[@]} ]; do
	for n in "${NODES[@]}"; do
		[ -z "${SETUP_DONE[$n]:-}" ] || continue
		id=${ids[$((n - 1))]}
		# A node fenced (or otherwise rebooted) during setup lost the
		# watcher with its boot; its helper runs again at boot and carries
		# on from its state file. Watch it again, on the new boot.
		started_on=$(cat "$SHARE/node$n/cmd/$id.started" 2>/dev/null || echo 0)
		if [ ! -e "$SHARE/node$n/cmd/$id.rc" ] && [ "$started_on" -gt 0 ] &&
			[ "$(boots_of "$n")" -gt "$started_on" ]; then
			log "node$n rebooted during setup (boot $(boots_of "$n")): watching its helper again"
			SETUP_REBOOTS="${SETUP_REBOOTS:-} node$n"
			ids[n - 1]=$(vm_start "$n" "bash /share/vmrig/provision/setup.sh")
			continue
		fi
		late=$((SECONDS - setup_start >= 3000))
		[ -e "$SHARE/node$n/cmd/$id.rc" ] || [ $late = 1 ] || [ $ok = FAIL ] || continue
		vm_wait "$n" "$id" 1 >"$RUN/node$n/setup.log" 2>&1 || ok=FAIL
		SETUP_DONE[$n]=1
		tail -n 3 "$RUN/node$n/setup.log" | sed "s/^/  node$n: /" >&2
	done
	[ ${#SETUP_DONE[@]} -lt ${#NODES[@]} ] || break
	if [ $ok = FAIL ]; then
		log "a helper failed for good: not waiting for the other node"
		continue
	fi
	sleep 2
done
killed=
if [ $KILL_TEST = 1 ]; then
	killed=$(vm_wait 1 "$kill_id" 60 2>&1 | tail -n1) || true
	log "kill test: $killed"
fi
rebooted=
[ -z "${SETUP_REBOOTS:-}" ] || rebooted="rebooted during setup:${SETUP_REBOOTS}; the helper carried on after the boot"
result "setup: the $VMRIG_PROVISION provisioner set the cluster up on both nodes" $ok "$rebooted"
# The benchmark's numbers: each node's uptime when its setup was done.
for n in "${NODES[@]}"; do
	u=$(sed -n 's/^\[ *\([0-9.]*\)\] [^:]*: === done.*/\1/p' "$RUN/node$n/setup.log" | tail -n1)
	echo "done-uptime node$n ${u:-none}" >>"$RUN/bench.txt"
	grep -h 'timing:' "$RUN/node$n/setup.log" | sed "s/^/timing node$n /" >>"$RUN/bench.txt" || true
done
[ $ok = OK ] || finish
phase_end

# The benchmark's mode (scripts/vm-bench.sh): the time to "every resource
# Started on both and a file written on each read back on the other" is
# what it measures. The helper's own run ends with that file check; after
# the hand-run script the rig does the same check (16 KiB each way, as the
# helper's files) and times it. Then the run ends.
if [ "${VMRIG_BENCH:-0}" = 1 ]; then
	phase_begin "bench: file check"
	if [ "$VMRIG_PROVISION" = clusterkick ]; then
		echo "filecheck-secs 0 (the helper's own fs-write / fs-read steps)" >>"$RUN/bench.txt"
		result "bench: the helper checked a file each way itself (fs-checked)" OK
	else
		t=${EPOCHREALTIME/./}
		s1=$(vm_exec 1 120 "head -c 16640 /dev/urandom >/mnt/gfs/bench.node1 && sync -f /mnt/gfs/bench.node1 && sha256sum </mnt/gfs/bench.node1" | tail -n1)
		s2=$(vm_exec 2 120 "head -c 16640 /dev/urandom >/mnt/gfs/bench.node2 && sync -f /mnt/gfs/bench.node2 && sha256sum </mnt/gfs/bench.node2" | tail -n1)
		r1=$(vm_exec 2 120 "sha256sum </mnt/gfs/bench.node1" | tail -n1)
		r2=$(vm_exec 1 120 "sha256sum </mnt/gfs/bench.node2" | tail -n1)
		d=$(((${EPOCHREALTIME/./} - t) / 100000))
		echo "filecheck-secs $((d / 10)).$((d % 10))" >>"$RUN/bench.txt"
		if [ -n "$s1" ] && [ "$s1" = "$r1" ] && [ -n "$s2" ] && [ "$s2" = "$r2" ]; then
			result "bench: a 16 KiB file written on each node reads back on the other" OK
		else
			result "bench: file check" FAIL "$s1/$r1 $s2/$r2"
		fi
	fi
	phase_end
	finish
fi

# ------------------------------------------------------------ 1. both nodes
phase_begin "check 1: both nodes"
check "1a every resource Started on both nodes, no failed actions (seen from each)" state_both
check "1b DRBD Connected Primary/Primary UpToDate/UpToDate on both" drbd_both
check "1c GFS2 mounted on /mnt/gfs on both" gfs2_both
declare -A SUM
SUM[blob.node1]=$(write_file 1 blob.node1 8)
SUM[blob.node2]=$(write_file 2 blob.node2 8)
r1=$(read_sum 2 blob.node1)
r2=$(read_sum 1 blob.node2)
if [ -n "${SUM[blob.node1]}" ] && [ "$r1" = "${SUM[blob.node1]}" ] &&
	[ -n "${SUM[blob.node2]}" ] && [ "$r2" = "${SUM[blob.node2]}" ]; then
	result "1d an 8 MiB file written on each node reads back on the other (sha256)" OK
else
	result "1d file cross-check" FAIL "node1 wrote ${SUM[blob.node1]}, node2 read $r1; node2 wrote ${SUM[blob.node2]}, node1 read $r2"
fi
phase_end

# --------------------------------------------------------------- 2. fencing
phase_begin "check 2: fencing"
pid1=$(qemu_pid 1)
pid2=$(qemu_pid 2)
# node1 writes to GFS2 every 2 s until told to stop; progress to the share.
writer=$(vm_start 1 "for i in \$(seq 1 600); do [ -e /share/sync/stop-writer ] && break
echo \"\$i \$(cut -d' ' -f1 /proc/uptime)\" >>/mnt/gfs/writer.node1 && sync -f /mnt/gfs/writer.node1 && echo \$i >/share/node1/writer.last.tmp && mv /share/node1/writer.last.tmp /share/node1/writer.last
sleep 2; done")
sleep 8
# Cut node2 off both inter-node links (cluster: corosync/dlm; storage: DRBD).
# Both nodes still reach the BMCs: who fences whom is settled by the delay
# on fence_node1 (pcmk_delay_base), as in a real split.
# By node1's addresses, not by interface: the clusterkick nodes' addresses
# are on bridges (br-bcn0, br-sn0) over renamed NICs, the hand's on eth0/1.
vm_exec 2 60 "for a in 10.99.0.1 10.99.1.1; do iptables -I INPUT -s \$a -j DROP; iptables -I OUTPUT -d \$a -j DROP; done; echo cut" >/dev/null ||
	log "the cut command on node2 did not report back"
t_cut=$SECONDS
log "node2 cut off from node1 (cluster and storage links)"
start=$SECONDS
while qemu_pid 2 >/dev/null && [ "$(qemu_pid 2)" = "$pid2" ] && [ $((SECONDS - start)) -lt 400 ]; do sleep 0.5; done
t_off=$((SECONDS - t_cut))
if [ "$(qemu_pid 2 || echo gone)" != "$pid2" ] && [ "$(qemu_pid 1 || echo gone)" = "$pid1" ]; then
	result "2a node1 fenced node2: node2's qemu (pid $pid2) powered off, node1 untouched" OK "${t_off}s after the cut"
else
	result "2a node2 fenced" FAIL "after ${t_off}s: node1 qemu $(qemu_pid 1 || echo gone) (was $pid1), node2 qemu $(qemu_pid 2 || echo gone) (was $pid2)"
fi
start=$SECONDS
until p=$(qemu_pid 2) && [ "$p" != "$pid2" ]; do [ $((SECONDS - start)) -lt 180 ] || break; sleep 0.5; done
t_on=$((SECONDS - t_cut))
# The fence operation ends after the agent has seen node2 on again.
hist=$(vm_exec 1 400 "$G WAIT_EVERY=10 wait_for 'fence of ${NAME[2]} complete' 360 sh -c 'stonith_admin --history ${NAME[2]} | grep -q \"reboot of ${NAME[2]} successful\"'
stonith_admin --history ${NAME[2]} --verbose 2>&1; echo; stonith_admin --history ${NAME[1]} 2>&1")
log "stonith history on node1: $(tr '\n' ' ' <<<"$hist")"
if grep -q "reboot of ${NAME[2]} successful" <<<"$hist" && grep -q "delegate=${NAME[1]}" <<<"$hist" &&
	! grep -q "of ${NAME[1]} successful" <<<"$hist"; then
	result "2b pacemaker's history: reboot of node2 by node1 through fence_ipmilan successful; node2's BMC powered it on again" OK "qemu back ${t_on}s after the cut"
else
	result "2b fence history" FAIL "$hist"
fi
after=$(vm_exec 1 400 "set -e; dd if=/dev/urandom of=/mnt/gfs/after-fence bs=1M count=8 conv=fsync status=none; sha256sum /mnt/gfs/after-fence | cut -d' ' -f1" | tail -n1)
t_write=$((SECONDS - t_cut))
wl_before=$(cat "$SHARE/node1/writer.last" 2>/dev/null || echo 0)
sleep 5
wl_after=$(cat "$SHARE/node1/writer.last" 2>/dev/null || echo 0)
# What node1 wrote is what 2e and 4d look for, whatever the writer did.
[ -z "$after" ] || SUM[after-fence]=$after
if [ -n "$after" ] && [ "$wl_after" -gt "$wl_before" ] 2>/dev/null; then
	result "2c GFS2 writable on node1 after the fence (8 MiB with fsync; the 2 s writer goes on)" OK "write done ${t_write}s after the cut"
else
	result "2c GFS2 writable on node1" FAIL "write sum '$after', writer $wl_before -> $wl_after"
fi
ok=FAIL
if wait_boot 2 2 900; then
	log "node2 booted again ($((SECONDS - t_cut))s after the cut); waiting for the cluster"
	if vm_exec 1 1500 "$G WAIT_EVERY=10 wait_for 'every resource Started on both nodes' 1400 cluster_all_started" >/dev/null; then ok=OK; fi
fi
result "2d node2 came back through its BMC and rejoined by itself: every resource Started on both" $ok "$((SECONDS - t_cut))s after the cut"
touch "$SHARE/sync/stop-writer"
vm_wait 1 "$writer" 60 >/dev/null || true
r=$(read_sum 2 after-fence)
r1=$(read_sum 2 blob.node1)
if [ "$r" = "${SUM[after-fence]:-x}" ] && [ "$r1" = "${SUM[blob.node1]}" ]; then
	result "2e node2 reads what node1 wrote during the partition (sha256)" OK
else
	result "2e node2 reads node1's files" FAIL "after-fence ${SUM[after-fence]:-none} vs $r; blob.node1 ${SUM[blob.node1]} vs $r1"
fi
sb1=$(split_brains 1)
sb2=$(split_brains 2)
if [ "$sb1" = 0 ] && [ "$sb2" = 0 ]; then
	result "2f DRBD reported no split brain on either node (kernel log, every boot)" OK
else
	result "2f no DRBD split brain" FAIL "split-brain lines: node1 $sb1, node2 $sb2"
fi
phase_end

# ---------------------------------------------------------------- 3. reboot
if [ $KILL_TEST = 1 ]; then
	phase_begin "check 3: helper killed mid-run"
	if [[ $killed == "killed "* ]]; then
		result "3a node1's helper killed (SIGKILL) after create-md, started again; the pair completed (setup)" "$([ $ok = OK ] && echo OK || echo FAIL)" "$killed"
	else
		result "3a node1's helper killed after create-md" FAIL "the kill did not happen: $killed"
	fi
	# Every destructive command the helpers ran, from their logs: none twice,
	# and every ledger entry done.
	for n in "${NODES[@]}"; do
		out=$(vm_exec "$n" 120 "bash /share/vmrig/destructive.sh")
		echo "$out" >"$RUN/node$n/destructive.txt"
		twice=$(grep '^ran ' <<<"$out" | awk '$2 > 1' || true)
		starts=$(sed -n 's/^starts //p' <<<"$out")
		started=$(sed -n 's/^ledger-started //p' <<<"$out")
		ran=$(grep -c '^ran ' <<<"$out" || true)
		if [ -z "$twice" ] && [ "${started:-1}" = 0 ] && [ "$ran" -gt 0 ]; then
			result "3b node$n: no destructive command ran twice ($ran distinct, each once; $starts helper starts; no ledger entry left started)" OK
		else
			result "3b node$n: no destructive command ran twice" FAIL "$(tr '\n' ';' <<<"$out")"
		fi
	done
	n1starts=$(sed -n 's/^starts //p' "$RUN/node1/destructive.txt")
	if [ "${n1starts:-0}" -ge 2 ]; then
		result "3c node1's log shows the restarted helper carrying on ($n1starts starts)" OK
	else
		result "3c node1's helper restarted" FAIL "starts: ${n1starts:-none}"
	fi
	phase_end
else
	log "check 3 (a helper killed mid-run) is for the clusterkick provisioner only"
fi

# ---------------------------------------------------------------- 4. reboot
phase_begin "check 4: reboot both"
ids_of() {
	vm_exec "$1" 120 "blkid -p -s UUID -o value /dev/vgc/lv1; vgs --noheadings -o vg_uuid vgc | tr -d ' '; pvs --noheadings -o pv_uuid /dev/drbd0 | tr -d ' '" | tr '\n' ' '
}
before=$(ids_of 1)
SUM[reboot.node2]=$(write_file 2 reboot.node2 16)
b1=$(boots_of 1)
b2=$(boots_of 2)
log "identities before: $before; rebooting both nodes (systemctl reboot)"
for n in "${NODES[@]}"; do vm_start "$n" "systemctl reboot" >/dev/null; done
ok=OK
wait_boot 1 $((b1 + 1)) 1200 || ok=FAIL
wait_boot 2 $((b2 + 1)) 1200 || ok=FAIL
if [ $ok = OK ]; then
	log "both nodes booted again; waiting for the cluster"
	vm_exec 1 1500 "$G WAIT_EVERY=10 wait_for 'every resource Started on both nodes' 1400 cluster_all_started" >/dev/null || ok=FAIL
fi
result "4a both nodes rebooted and came back by themselves" $ok
state_and_drbd() { state_both && drbd_both; }
check "4b every resource Started on both nodes, no failed actions; DRBD Primary/Primary UpToDate" state_and_drbd
after=$(ids_of 2)
if [ -n "$before" ] && [ "$before" = "$after" ]; then
	result "4c nothing made again: GFS2, VG and PV UUIDs unchanged" OK
else
	result "4c identities unchanged" FAIL "before: $before; after: $after"
fi
ok=OK
detail=
for f in blob.node1 blob.node2 after-fence reboot.node2; do
	for n in "${NODES[@]}"; do
		r=$(read_sum "$n" "$f")
		[ "$r" = "${SUM[$f]:-x}" ] || {
			ok=FAIL
			detail="$detail $f on node$n: $r != ${SUM[$f]:-none};"
		}
	done
done
result "4d every file written so far reads back on both nodes (sha256)" $ok "$detail"
sb1=$(split_brains 1)
sb2=$(split_brains 2)
if [ "$sb1" = 0 ] && [ "$sb2" = 0 ]; then result "4e still no DRBD split brain" OK; else result "4e no split brain" FAIL "node1 $sb1, node2 $sb2"; fi
phase_end

finish
