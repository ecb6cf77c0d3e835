# The VM rig's host side (sourced by scripts/vm-test.sh): the image cache,
# the nodes' disks, the simulated BMCs, the VMs, the agent channel and the
# PASS/FAIL bookkeeping. See scripts/vm/README.md.
# shellcheck shell=bash

VMRIG_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VMRIG_CACHE=${VMRIG_CACHE:-/var/cache/clusterkick-vm}
VMRIG_RUN=${VMRIG_RUN:-/var/tmp/clusterkick-vm/run}
VMRIG_MEM=${VMRIG_MEM:-1536}
VMRIG_PROVISION=${VMRIG_PROVISION:-hand}
RUN=$VMRIG_RUN
SHARE=$RUN/share
NODES=(1 2)
# Host loopback ports. The BMC LAN ports are also in the CIB (ipport).
bmc_lan_port() { echo $((9000 + $1)); }
bmc_vm_port() { echo $((9100 + $1)); }
cluster_port() { echo $((9200 + $1)); }
storage_port() { echo $((9300 + $1)); }

T0=${EPOCHREALTIME/./}
# Seconds since the run started, one decimal (intervals only, never the date).
rel() {
	local now=${EPOCHREALTIME/./}
	local d=$(((now - T0) / 100000))
	printf '%d.%d' $((d / 10)) $((d % 10))
}
log() { printf '[%7ss] %s\n' "$(rel)" "$*" | tee -a "$RUN/rig.log" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

# --- PASS/FAIL bookkeeping ------------------------------------------------
PASSED=0
FAILED=0
PHASES=()
phase_begin() {
	PHASE_NAME=$1
	PHASE_T=${EPOCHREALTIME/./}
	log "--- phase: $PHASE_NAME"
}
phase_secs() {
	local d=$(((${EPOCHREALTIME/./} - PHASE_T) / 100000))
	printf '%d.%d' $((d / 10)) $((d % 10))
}
phase_end() {
	local s
	s=$(phase_secs)
	PHASES+=("$PHASE_NAME: ${s}s")
	log "--- phase $PHASE_NAME took ${s}s"
}
# result NAME OK|FAIL [DETAIL]: one line per check, with the phase's time.
result() {
	local name=$1 ok=$2 detail=${3:-}
	if [ "$ok" = OK ]; then
		PASSED=$((PASSED + 1))
		printf 'PASS %s (%ss)%s\n' "$name" "$(phase_secs)" "${detail:+: $detail}" | tee -a "$RUN/results.txt"
	else
		FAILED=$((FAILED + 1))
		printf 'FAIL %s (%ss)%s\n' "$name" "$(phase_secs)" "${detail:+: $detail}" | tee -a "$RUN/results.txt"
	fi
}
# check NAME COMMAND...: runs COMMAND, PASS if it succeeds.
check() {
	local name=$1
	shift
	if "$@"; then result "$name" OK; else result "$name" FAIL; fi
}

# --- image ----------------------------------------------------------------
# The cache key is the sha256 of the scripts that make the image.
image_key() {
	(cd "$VMRIG_HOME/image" && cat build-image.sh configure-rootfs.sh) | sha256sum | cut -c1-16
}
# ensure_image: sets IMG to a complete image folder, building it if needed.
ensure_image() {
	local key
	key=$(image_key)
	IMG=$VMRIG_CACHE/$key
	if [ -e "$IMG/complete" ]; then
		# shellcheck disable=SC2034 # read by vm-test.sh
		IMAGE_STATE=warm
		log "image $key: cached in $IMG"
		return 0
	fi
	# shellcheck disable=SC2034 # read by vm-test.sh
	IMAGE_STATE=cold
	mkdir -p "$VMRIG_CACHE"
	# Older images (other keys) are the rig's own: remove them.
	local d
	for d in "$VMRIG_CACHE"/*; do
		case ${d##*/} in
		"$key") ;;
		[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*) rm -rf "$d" ;;
		esac
	done
	log "image $key: building from nothing (debootstrap)"
	rm -rf "$IMG.tmp"
	"$VMRIG_HOME/image/build-image.sh" "$IMG.tmp" 2>&1 | tee -a "$RUN/rig.log" >&2 ||
		die "image build failed"
	[ -e "$IMG.tmp/complete" ] || die "image build did not complete"
	mv "$IMG.tmp" "$IMG"
}

# --- run folder, secrets, disks -------------------------------------------
# A fresh run folder. Only a folder this rig made (it has .vmrig-run) is
# ever removed.
new_run_dir() {
	if [ -e "$RUN" ]; then
		[ -e "$RUN/.vmrig-run" ] || {
			echo "vm-test: $RUN exists and is not a rig run folder; set VMRIG_RUN" >&2
			exit 1
		}
		rm -rf "$RUN"
	fi
	mkdir -p "$RUN" "$SHARE/vmrig" "$SHARE/sync"
	touch "$RUN/.vmrig-run"
	chmod 0700 "$RUN"
}

# The run's secrets, mode 0600, never printed: corosync's authkey and one
# password per BMC.
make_secrets() {
	local s=$RUN/secrets n
	install -d -m 0700 "$s"
	corosync-keygen -k "$s/authkey" >/dev/null 2>&1 || die "corosync-keygen failed"
	chmod 0600 "$s/authkey"
	for n in "${NODES[@]}"; do
		# 16 characters: IPMI 2.0 allows at most 20.
		(umask 077 && head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$s/bmc$n.pass")
	done
}

# The provisioner's files for the guests go on the share.
stage_share() {
	cp "$VMRIG_HOME"/guest/agent.sh "$VMRIG_HOME"/guest/lib.sh "$VMRIG_HOME"/guest/state.py \
		"$VMRIG_HOME"/guest/kill-helper.sh "$VMRIG_HOME"/guest/destructive.sh "$SHARE/vmrig/"
	mkdir -p "$SHARE/vmrig/provision"
	cp -r "$VMRIG_HOME/provision/$VMRIG_PROVISION/." "$SHARE/vmrig/provision/"
	chmod -R a+rX "$SHARE/vmrig"
	local n
	for n in "${NODES[@]}"; do mkdir -p "$SHARE/node$n/cmd"; done
}

# make_disks N: the node's root disk and its empty DRBD backing disk. The
# root disk is the cached image's tree with the provisioner's install step
# applied (like an installer's late_command: it may chroot into the tree),
# seen through an overlay mount so that the cache is never written, and
# made into ext4 with mkfs.ext4 -d (no loop device).
make_disks() {
	local n=$1 d=$RUN/node$1 rc=0
	mkdir -p "$d/upper" "$d/work" "$d/tree"
	mount -t overlay overlay -o "lowerdir=$IMG/rootfs,upperdir=$d/upper,workdir=$d/work" "$d/tree" ||
		die "node$n: overlay mount failed"
	# The data disk first: a provisioner that stands in for the installer
	# lays out its partitions and the node's VG (the fourth argument).
	truncate -s 1G "$d/data.raw"
	"$VMRIG_HOME/provision/$VMRIG_PROVISION/install-host.sh" "$d/tree" "node$n" "$RUN/secrets" "$d/data.raw" || rc=1
	if [ $rc = 0 ]; then
		truncate -s 4G "$d/root.raw"
		mkfs.ext4 -q -F -L root -d "$d/tree" "$d/root.raw" || rc=2
	fi
	umount "$d/tree"
	rm -rf "$d/upper" "$d/work" "$d/tree"
	[ $rc = 0 ] || die "node$n: $([ $rc = 1 ] && echo "the provisioner's install step" || echo "mkfs.ext4 -d") failed"
}

# The provisioner's host-side preparation, once before the disks (e.g.
# `clusterkick build`): provision/<name>/prepare-host.sh RUN SECRETS, if it
# has one. A server it leaves running writes its pid to RUN/provision/*.pid
# (with the command name in RUN/provision/*.comm); teardown ends it.
prepare_host() {
	local p=$VMRIG_HOME/provision/$VMRIG_PROVISION/prepare-host.sh
	[ -x "$p" ] || return 0
	install -d -m 0700 "$RUN/provision"
	"$p" "$RUN" "$RUN/secrets" 2>&1 | tee -a "$RUN/rig.log" >&2
	return "${PIPESTATUS[0]}"
}
stop_provision_servers() {
	local f pid comm
	for f in "$RUN"/provision/*.pid; do
		[ -s "$f" ] || continue
		pid=$(cat "$f")
		comm=$(cat "${f%.pid}.comm" 2>/dev/null || echo '?')
		# Only the process the provisioner started: same pid, same name.
		if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ]; then kill "$pid" 2>/dev/null || true; fi
		rm -f "$f"
	done
}

# --- VMs and BMCs -----------------------------------------------------------
port_free() {
	local p=$1
	[ -z "$(ss -Hanu "( sport = :$p )" 2>/dev/null)" ] && [ -z "$(ss -Hant "( sport = :$p )" 2>/dev/null)" ]
}
check_ports() {
	local n p
	for n in "${NODES[@]}"; do
		for p in "$(bmc_lan_port "$n")" "$(bmc_vm_port "$n")" "$(cluster_port "$n")" "$(storage_port "$n")"; do
			port_free "$p" || die "port $p on 127.0.0.1 is in use (another rig run?)"
		done
	done
}

# The qemu command line, as a script the BMC runs on "power on" (startcmd).
write_start_script() {
	local n=$1 m=$((3 - $1)) d=$RUN/node$1
	cat >"$d/start-vm.sh" <<START
#!/bin/sh
# node$n's "power on": started by its BMC (ipmi_sim startcmd).
exec qemu-system-x86_64 -name node$n -accel tcg -cpu max -smp 1 -m $VMRIG_MEM \\
	-nodefaults -display none -vga none \\
	-kernel $IMG/vmlinuz -initrd $IMG/initrd.img \\
	-append "root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=10 mitigations=off" \\
	-drive file=$d/root.raw,if=virtio,format=raw,cache=unsafe \\
	-drive file=$d/data.raw,if=virtio,format=raw,cache=unsafe \\
	-virtfs local,path=$SHARE,mount_tag=share,security_model=none,id=share \\
	-netdev dgram,id=cluster,local.type=inet,local.host=127.0.0.1,local.port=$(cluster_port "$n"),remote.type=inet,remote.host=127.0.0.1,remote.port=$(cluster_port "$m") \\
	-device virtio-net-pci,netdev=cluster,mac=52:54:00:99:00:0$n \\
	-netdev dgram,id=storage,local.type=inet,local.host=127.0.0.1,local.port=$(storage_port "$n"),remote.type=inet,remote.host=127.0.0.1,remote.port=$(storage_port "$m") \\
	-device virtio-net-pci,netdev=storage,mac=52:54:00:99:01:0$n \\
	-netdev user,id=mgmt,net=10.0.2.0/24,ipv6=off \\
	-device virtio-net-pci,netdev=mgmt,mac=52:54:00:99:02:0$n \\
	-chardev socket,id=ipmi0,host=127.0.0.1,port=$(bmc_vm_port "$n"),reconnect=2 \\
	-device ipmi-bmc-extern,id=bmc0,chardev=ipmi0 -device isa-ipmi-kcs,bmc=bmc0 \\
	-chardev file,id=serial0,path=$d/serial.log,append=on -serial chardev:serial0 \\
	-pidfile $d/qemu.pid
START
	chmod 0700 "$d/start-vm.sh"
}

# bmc_start N: node N's simulated BMC (OpenIPMI's ipmi_sim) on 127.0.0.1,
# owning the VM's qemu process.
bmc_start() {
	local n=$1 b=$RUN/bmc$1
	install -d -m 0700 "$b" "$b/state"
	(
		umask 077
		cat >"$b/lan.conf" <<LAN
name "bmc$n"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 $(bmc_lan_port "$n")
    priv_limit admin
    allowed_auths_callback md5
    allowed_auths_user md5
    allowed_auths_operator md5
    allowed_auths_admin md5
    guid a123456789abcdefa123456789abcde$n
  endlan
  serial 15 127.0.0.1 $(bmc_vm_port "$n") codec VM
  startcmd "$RUN/node$n/start-vm.sh"
  startnow false
  poweroff_wait 2
  kill_wait 5
  user 2 true "admin" "$(cat "$RUN/secrets/bmc$n.pass")" admin 10 md5
LAN
	)
	cat >"$b/bmc.emu" <<EMU
mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
mc_enable 0x20
EMU
	setsid ipmi_sim -n -c "$b/lan.conf" -f "$b/bmc.emu" -s "$b/state" >"$b/ipmi_sim.log" 2>&1 </dev/null &
	echo $! >"$b/ipmi_sim.pid"
	for _ in $(seq 1 50); do
		bmc_power "$n" status >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	die "bmc$n: ipmi_sim does not answer (log: $b/ipmi_sim.log)"
}

# bmc_power N on|off|status|cycle: ipmitool over RMCP+ (cipher suite 3:
# ipmi_sim 2.0.33 cannot list its cipher suites, and without -C every call
# waits 10 s for that). The password is read from a 0600 file.
bmc_power() {
	timeout 30 ipmitool -I lanplus -C 3 -H 127.0.0.1 -p "$(bmc_lan_port "$1")" -U admin \
		-f "$RUN/secrets/bmc$1.pass" chassis power "$2"
}

# qemu_pid N: node N's qemu pid if that process is alive, else nothing.
qemu_pid() {
	local f=$RUN/node$1/qemu.pid pid
	[ -s "$f" ] || return 1
	pid=$(cat "$f")
	[ -d "/proc/$pid" ] && grep -q qemu-system "/proc/$pid/cmdline" 2>/dev/null || return 1
	echo "$pid"
}

# A background watcher logs every power transition of both VMs as the host
# sees it (the qemu process appearing or going away) to power.log.
power_watch_start() {
	(
		declare -A last
		while :; do
			for n in "${NODES[@]}"; do
				p=$(qemu_pid "$n" || echo off)
				if [ "${last[$n]:-off}" != "$p" ]; then
					printf '%s node%s %s\n' "$(rel)" "$n" "$([ "$p" = off ] && echo off || echo "on pid $p")" >>"$RUN/power.log"
					last[$n]=$p
				fi
			done
			sleep 0.2
		done
	) &
	POWER_WATCH_PID=$!
}

# --- the agent channel (9p share) -------------------------------------------
# vm_start N SCRIPT: drops SCRIPT for node N's agent; prints its id. The
# counter is a file, so that ids stay unique when called in $(...).
vm_start() {
	local n=$1 script=$2 id f seq=$RUN/node$1/cmd.seq
	id=$(($(cat "$seq" 2>/dev/null || echo 0) + 1))
	echo "$id" >"$seq"
	id=$(printf '%04d' "$id")
	f=$SHARE/node$n/cmd/$id
	printf '%s\n' "$script" >"$f.tmp"
	mv "$f.tmp" "$f.sh"
	echo "$id"
}
# vm_wait N ID TIMEOUT: waits for the command's end; its output goes to the
# node's log (and to stdout); returns its exit status (124 on timeout).
vm_wait() {
	local n=$1 id=$2 tmo=$3 f=$SHARE/node$1/cmd/$2 start=$SECONDS rc
	while [ ! -e "$f.rc" ]; do
		if [ $((SECONDS - start)) -ge "$tmo" ]; then
			log "node$n: command $id still running after ${tmo}s"
			cat "$f.out" 2>/dev/null >>"$RUN/node$n/commands.log"
			return 124
		fi
		sleep 1
	done
	rc=$(cat "$f.rc")
	{
		echo "### command $id (rc $rc)"
		cat "$f.sh"
		echo "### output"
		cat "$f.out"
	} >>"$RUN/node$n/commands.log"
	cat "$f.out"
	return "$rc"
}
# vm_exec N TIMEOUT SCRIPT: vm_start + vm_wait.
vm_exec() {
	local id
	id=$(vm_start "$1" "$3")
	vm_wait "$1" "$id" "$2"
}
# boots_of N: how many times node N's agent has started.
boots_of() {
	local f=$SHARE/node$1/boots
	[ -s "$f" ] || {
		echo 0
		return
	}
	tail -n1 "$f" | cut -d' ' -f1
}
# wait_boot N BOOT TIMEOUT: until node N's agent reports boot number BOOT.
wait_boot() {
	local n=$1 want=$2 tmo=$3 start=$SECONDS
	until [ "$(boots_of "$n")" -ge "$want" ]; do
		[ $((SECONDS - start)) -lt "$tmo" ] || return 1
		sleep 1
	done
}

# --- teardown ----------------------------------------------------------------
# Every process this run started ends here, by pid: the VMs (through their
# BMCs first, then by pid), the BMCs, the watcher.
teardown() {
	local n pid
	for n in "${NODES[@]}"; do
		if qemu_pid "$n" >/dev/null; then bmc_power "$n" off >/dev/null 2>&1 || true; fi
	done
	sleep 1
	for n in "${NODES[@]}"; do
		if pid=$(qemu_pid "$n"); then kill "$pid" 2>/dev/null || true; sleep 2; kill -9 "$pid" 2>/dev/null || true; fi
		if [ -s "$RUN/bmc$n/ipmi_sim.pid" ]; then
			pid=$(cat "$RUN/bmc$n/ipmi_sim.pid")
			if grep -q ipmi_sim "/proc/$pid/cmdline" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
		fi
	done
	if [ -n "${POWER_WATCH_PID:-}" ]; then kill "$POWER_WATCH_PID" 2>/dev/null || true; fi
	stop_provision_servers
	for n in "${NODES[@]}"; do
		if mountpoint -q "$RUN/node$n/tree" 2>/dev/null; then umount "$RUN/node$n/tree" || true; fi
	done
	wait 2>/dev/null || true
}
