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
