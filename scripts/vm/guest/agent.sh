#!/bin/bash
# The rig's agent inside a VM (started at every boot by vmrig-agent.service
# from the 9p share). It runs the commands the host drops into
# /share/<node>/cmd/: for each new ID.sh it writes ID.started (the boot
# number), runs the script in the background with its output in ID.out, and
# writes its exit status to ID.rc when it ends. It also appends one line per
# boot to /share/<node>/boots: "<boot number> <uptime seconds>".
set -u
me=$(hostname -s)
dir=/share/$me
mkdir -p "$dir/cmd" /var/lib/vmrig
boots=$(($(cat /var/lib/vmrig/boots 2>/dev/null || echo 0) + 1))
echo "$boots" >/var/lib/vmrig/boots
sync /var/lib/vmrig/boots
echo "$boots $(cut -d' ' -f1 /proc/uptime)" >>"$dir/boots"

while :; do
	for f in "$dir"/cmd/*.sh; do
		[ -e "$f" ] || continue
		id=${f%.sh}
		[ -e "$id.started" ] && continue
		echo "$boots" >"$id.started"
		(
			cd /
			setsid bash "$f" >"$id.out" 2>&1 </dev/null
			echo $? >"$id.rc.tmp"
			mv "$id.rc.tmp" "$id.rc"
		) &
	done
	sleep 1
done
