#!/bin/bash
# Issue 11's benchmark (not a test): in one run, the VM rig sets the cluster
# up twice on fresh disks, once with the hand-run script (the baseline,
# scripts/vm/provision/hand) and once with clusterkick's build and its
# first-boot helper (scripts/vm/provision/clusterkick), and compares the time
# from the nodes' boot to "every resource Started on both and a file written
# on each node read back on the other" (guest uptime when the provisioner is
# done on the later node, plus, for the hand script, the rig's file check).
# The helper's own overhead (its time neither in a command nor asleep,
# waiting for the peer or the cluster) comes from its log's timing line.
# Reports ratios; exits non-zero only when a pass fails.
#
#   sudo scripts/vm-bench.sh      (root, as scripts/vm-test.sh)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
base=${VMRIG_BENCH_DIR:-/var/tmp/clusterkick-vm}
rc=0
for p in hand clusterkick; do
	echo "=== bench pass: $p"
	VMRIG_BENCH=1 VMRIG_KILL=0 VMRIG_PROVISION=$p VMRIG_RUN=$base/bench-$p scripts/vm-test.sh || rc=1
done
# secs P: the later node's uptime at done, plus the file check's time.
secs() {
	local f=$base/bench-$1/bench.txt
	awk '/^done-uptime/ { if ($3 == "none") bad = 1; else if ($3 > m) m = $3 }
		/^filecheck-secs/ { fc = $2 }
		END { if (bad || m == 0) print "none"; else printf "%.1f %.1f %.1f\n", m, fc, m + fc }' "$f" 2>/dev/null || echo none
}
read -r h_done h_fc h_all <<<"$(secs hand)"
read -r _ _ c_all <<<"$(secs clusterkick)"
echo
echo "benchmark: from boot to every resource Started on both and the file check passed"
echo "  hand-run script:      ${h_all:-none} s (done at ${h_done:-?} s of uptime, file check ${h_fc:-?} s)"
echo "  clusterkick helper:   ${c_all:-none} s (its own file check included)"
if [ "${h_all:-none}" != none ] && [ "${c_all:-none}" != none ]; then
	awk -v c="$c_all" -v h="$h_all" 'BEGIN { printf "  ratio helper / hand:  %.2f (target: at most 1.20)\n", c / h }'
fi
f=$base/bench-clusterkick/bench.txt
grep '^timing ' "$f" 2>/dev/null | sed -n 's/^timing \(node[12]\) .*timing: \([0-9]*\) ms since this run started: \([0-9]*\) ms in \([0-9]*\) commands, \([0-9]*\) ms asleep.*, \([0-9]*\) ms own work (of which \([0-9]*\) ms in \([0-9]*\) fsynced.*/\1 \2 \3 \4 \5 \6 \7 \8/p' |
	while read -r node wall cmd n asleep own saving saves; do
		awk -v node="$node" -v wall="$wall" -v cmd="$cmd" -v n="$n" -v asleep="$asleep" -v own="$own" -v saving="$saving" -v saves="$saves" 'BEGIN {
			printf "  helper on %s: %.1f s run: %.1f s in %d commands, %.1f s asleep (peer, cluster, polls), own work %d ms = %.3f%% of its run (target: under 1 s), of which %d ms in %d fsynced state-file writes\n",
				node, wall / 1000, cmd / 1000, n, asleep / 1000, own, 100 * own / wall, saving, saves }'
	done
# The CPU its process used in its own work (the rest went to starting and
# waiting for commands, and to waking while asleep).
grep '^timing ' "$f" 2>/dev/null | sed -n 's/^timing \(node[12]\) .*itself used \([0-9]*\) ms of CPU: \([0-9]*\) ms in its own work, \([0-9]*\) ms starting and waiting for commands, \([0-9]*\) ms while asleep, \([0-9]*\) ms writing.*/\1 \2 \3 \4 \5 \6/p' |
	while read -r node cpu own cmd asleep files; do
		echo "  helper on $node: CPU $cpu ms: $own ms in its own work, $cmd ms for its commands, $asleep ms asleep, $files ms writing the node's files"
	done
# Of its own work: on the CPU, waiting for the CPU while the cluster's
# daemons ran (the kernel's run-queue accounting), and blocked (the rest:
# the state file's fsyncs, page faults).
grep '^timing ' "$f" 2>/dev/null | sed -n 's/^timing \(node[12]\) .*of its own work, \([0-9]*\) ms ran on the CPU (of them \([0-9]*\) ms writing the state file), \([0-9]*\) ms waited for the CPU while other processes ran (of them \([0-9]*\) ms writing the state file; \([0-9]*\) ms waited in all).*/\1 \2 \3 \4 \5 \6/p' |
	while read -r node oncpu savecpu queued savequeued allqueued; do
		echo "  helper on $node: of its own work, $oncpu ms on the CPU ($savecpu ms of them writing the state file), $queued ms waiting for the CPU ($savequeued ms of them writing the state file; $allqueued ms waiting for it in all the run)"
	done
# The node's files it wrote (configs, the check files on GFS2): the node's
# work, outside its own.
grep '^timing ' "$f" 2>/dev/null | sed -n 's/^timing \(node[12]\) .*, \([0-9]*\) ms writing \([0-9]*\) of the node.s files,.*/\1 \2 \3/p' |
	while read -r node ms n; do
		echo "  helper on $node: $ms ms writing $n of the node's files (fsynced)"
	done
exit $rc
