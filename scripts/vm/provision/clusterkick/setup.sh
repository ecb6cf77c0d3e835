#!/bin/bash
# The clusterkick provisioner's "setup": nothing to do. clusterkick-firstboot
# started at boot (systemd, from the overlay) and does everything; this only
# watches, read-only, until its state file says done, then prints where its
# time went. The rig runs it on both nodes once their agents are up.
set -euo pipefail
# shellcheck source=scripts/vm/guest/lib.sh
. /share/vmrig/lib.sh
state=/var/lib/clusterkick/firstboot.state
helper_log=/var/log/clusterkick-firstboot.log
unit=clusterkick-firstboot.service
done_now() { [ -f "$state" ] && grep -q '^done = true' "$state"; }

log "waiting for clusterkick-firstboot (state file $state)"
start=$(date +%s)
failed_since=
until done_now; do
	now=$(date +%s)
	if [ $((now - start)) -ge 2700 ]; then
		tail -n 20 "$helper_log" 2>/dev/null || true
		die "clusterkick-firstboot not done after 2700 s"
	fi
	# A failed unit (the helper exited non-zero) is given 180 s to be
	# started again (check 3 kills and restarts it), then reported.
	if systemctl is-failed --quiet "$unit"; then
		failed_since=${failed_since:-$now}
		if [ $((now - failed_since)) -ge 180 ]; then
			tail -n 20 "$helper_log" 2>/dev/null || true
			die "$unit failed and stayed failed"
		fi
	else
		failed_since=
	fi
	sleep 2
done
log "=== done: clusterkick-firstboot's state file says done"
grep -h 'timing:' "$helper_log" | tail -n 3 || true
python3 /share/vmrig/state.py || true

# A profiling run (scripts/vm-profile.sh): perf's data and the kernel's
# symbols to the share, once perf has written them (it ends with the helper).
if [ -d /opt/clusterkick-perf ]; then
	me=$(hostname -s)
	for _ in $(seq 1 30); do pgrep -f /opt/clusterkick-perf/perf >/dev/null || break; sleep 1; done
	mkdir -p "/share/perf/$me"
	cp /var/tmp/helper-*.perf /var/tmp/perf-*.log "/share/perf/$me/" || true
	cp /proc/kallsyms "/share/perf/$me/kallsyms" || true
	log "perf data copied to the share"
fi

# The unit's scheduling, as this node's systemd and kernel apply it (after
# the timing above, so as not to disturb it). The helper says its own nice
# in its starting line; a transient service with the unit's own Nice= and
# CPUScheduling*= lines shows what its commands get: a command it starts
# must run at nice 0 (reset on fork), never ahead of the cluster's daemons.
unit_file=/etc/systemd/system/$unit
mapfile -t sched < <(grep -E '^(Nice|CPUScheduling[A-Za-z]+)=' "$unit_file")
want=$(sed -n 's/^Nice=//p' "$unit_file")
[ -n "$want" ] || die "$unit_file sets no Nice="
grep -q "running at nice $want\$" "$helper_log" || die "the helper's starting line does not say it ran at nice $want"
props=()
for s in "${sched[@]}"; do props+=(-p "$s"); done
# The probe is a file: systemd would expand $ words on its command line.
# Its own nice is field 19 of its stat, read by the shell itself (no
# fork); `nice` then runs as a command it starts.
probe=$(mktemp /run/clusterkick-sched-probe.XXXXXX)
cat >"$probe" <<'EOF'
read -r s </proc/self/stat
set -- $s
echo "${19} $(nice)"
EOF
got=$(systemd-run --quiet --wait --pipe "${props[@]}" /bin/sh "$probe") ||
	die "systemd-run with ${sched[*]} failed"
rm -f "$probe"
read -r own child <<<"$got"
log "scheduling: with ${sched[*]}, a service runs at nice $own and a command it starts at nice $child"
if [ "$own" != "$want" ] || [ "$child" != 0 ]; then
	die "scheduling: expected nice $want for the service and 0 for its command, got $own and $child"
fi
