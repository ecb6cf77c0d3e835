# Check 3's fault (run on node1 by the rig, through the agent, while the
# helper runs): waits until the helper's state file records `drbdadm
# create-md` done, kills the helper with SIGKILL, and starts its unit again
# as an admin would. Prints "killed PID" last.
# shellcheck shell=bash
# shellcheck source=scripts/vm/guest/lib.sh
. /share/vmrig/lib.sh
state=/var/lib/clusterkick/firstboot.state
unit=clusterkick-firstboot.service
md_done() { grep -A1 '^op = "create-md"' "$state" 2>/dev/null | grep -q '^status = "done"'; }
WAIT_EVERY=1 wait_for "create-md done in the state file" 1500 md_done || exit 1
pid=$(systemctl show -p MainPID --value "$unit")
[ "${pid:-0}" -gt 0 ] || {
	log "no helper process to kill"
	exit 1
}
log "killing the helper (pid $pid) with SIGKILL; $(sed -n 's/^completed = //p' "$state" | tr ',' '\n' | grep -c step:) steps completed"
kill -9 "$pid"
sleep 5
# The unit restarts a killed helper by itself a minute later
# (Restart=on-failure); the rig does not wait for that. `restart`, not
# `start`: systemd queues a start behind the pending auto-restart.
log "the unit is $(systemctl show -p ActiveState --value "$unit") after the kill; starting it again"
systemctl restart "$unit"
echo "killed $pid"
