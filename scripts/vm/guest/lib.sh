# Shell functions for the scripts that run inside the rig's VMs (sourced).
# Times are uptime seconds, never the time of day.
# shellcheck shell=bash

# node1 or node2 (the clusterkick provisioner's nodes are node1.rig.test
# and node2.rig.test: pacemaker's and corosync's names are the FQDN).
me=$(hostname -s)
case $me in
node1) peer=node2 ;;
node2) peer=node1 ;;
*)
	echo "vmrig: this node is called '$(hostname)', not node1 or node2" >&2
	exit 1
	;;
esac
# shellcheck disable=SC2034 # used by the scripts that source this file
peer_cluster_ip=10.99.0.${peer#node}
# shellcheck disable=SC2034
peer_storage_ip=10.99.1.${peer#node}
sync_dir=/share/sync

uptime_s() { cut -d' ' -f1 /proc/uptime; }
log() { printf '[%8s] %s: %s\n' "$(uptime_s)" "$me" "$*"; }
die() {
	log "FAILED: $*"
	exit 1
}
# Runs a command, logging it first.
run() {
	log "+ $*"
	"$@"
}

# wait_for DESCRIPTION TIMEOUT_S COMMAND...: polls every $WAIT_EVERY s
# (default 5; one vCPU: the agents need it more than we do) until COMMAND
# succeeds.
wait_for() {
	local what=$1 tmo=$2 start
	shift 2
	start=$(date +%s)
	log "waiting (up to ${tmo}s): $what"
	until "$@" >/dev/null 2>&1; do
		if [ $(($(date +%s) - start)) -ge "$tmo" ]; then
			log "timed out after ${tmo}s: $what"
			return 1
		fi
		sleep "${WAIT_EVERY:-5}"
	done
	log "ok after $(($(date +%s) - start))s: $what"
}

# barrier NAME TIMEOUT_S: both nodes reach NAME before either goes on
# (flag files on the 9p share; 9p reads are not cached).
barrier() {
	local name=$1 tmo=${2:-600}
	mkdir -p "$sync_dir"
	touch "$sync_dir/$name.$me"
	wait_for "peer at barrier $name" "$tmo" test -e "$sync_dir/$name.$peer"
}

# The DRBD 8.4 status line of r0 (minor 0) from /proc/drbd.
drbd_line() { sed -n 's/^ *0: //p' /proc/drbd 2>/dev/null; }
drbd_connected() { drbd_line | grep -q 'cs:Connected'; }
drbd_uptodate_both() { drbd_line | grep -q 'ds:UpToDate/UpToDate'; }
drbd_primary_both() { drbd_line | grep -q 'ro:Primary/Primary'; }

# pacemaker's view, cheaply (no python: polled under TCG). crm_mon's XML
# lists every configured instance (with --inactive); the checks count them.
crm_xml() { crm_mon -1 --inactive --output-as=xml 2>/dev/null; }
# res_on_both ID ROLE: both instances of clone primitive ID active in ROLE.
res_on_both() {
	[ "$(crm_xml | grep -c "<resource id=\"$1\" [^>]*role=\"$2\" active=\"true\"[^>]*failed=\"false\"")" = 2 ]
}
# Every configured instance active (Started or Promoted), none failed or
# Unpromoted (promoted-max equals clone-max here), both nodes online.
cluster_all_started() {
	local x conf act
	x=$(crm_xml) || return 1
	conf=$(sed -n 's/.*<resources_configured number="\([0-9]*\)".*/\1/p' <<<"$x")
	act=$(grep -c '<resource [^>]*role="\(Started\|Promoted\)" active="true"[^>]*failed="false"' <<<"$x")
	[ -n "$conf" ] && [ "$conf" -gt 0 ] && [ "$act" = "$conf" ] &&
		! grep -q 'role="Unpromoted"' <<<"$x" &&
		[ "$(grep -c '<node name="node[12][^"]*" [^>]*online="true"' <<<"$x")" = 2 ]
}
corosync_two_members() {
	corosync-quorumtool -s 2>/dev/null | grep -Eq '^Quorate: +Yes' &&
		[ "$(corosync-quorumtool -l 2>/dev/null | grep -c 'node[12]')" = 2 ]
}
both_online() { [ "$(crm_xml | grep -c '<node name="node[12][^"]*" [^>]*online="true"')" = 2 ]; }
