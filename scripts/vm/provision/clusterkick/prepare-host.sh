#!/bin/bash
# The clusterkick provisioner's host-side preparation, once per run: the
# rig's profile (profile.toml beside this script) is copied into the run
# folder with a secrets folder made for this run (the BMC passwords the rig
# made; `clusterkick secrets` makes the first-boot key and the DRBD secret
# there), then `clusterkick build` writes RUN/clusterkick/out/vmrig/.
#
#   prepare-host.sh RUN SECRETS
#
# The binaries: $CLUSTERKICK (default target/release/clusterkick of this
# tree) and the static helper the build embeds, $CLUSTERKICK_FIRSTBOOT
# (default target/x86_64-unknown-linux-musl/release/clusterkick-firstboot;
# scripts/build-helper.sh makes it). Neither is built here.
set -euo pipefail
run=${1:?usage: prepare-host.sh RUN SECRETS}
secrets=${2:?}
here=$(cd "$(dirname "$0")" && pwd)
# The rig stages this folder on the share; the tree is two levels up from
# scripts/vm/provision/clusterkick.
top=$(cd "$here/../../../.." && pwd)
ck=${CLUSTERKICK:-$top/target/release/clusterkick}
helper=${CLUSTERKICK_FIRSTBOOT:-$top/target/x86_64-unknown-linux-musl/release/clusterkick-firstboot}
for f in "$ck" "$helper"; do
	[ -x "$f" ] || {
		echo "prepare-host: no $f (cargo build --release --bin clusterkick; scripts/build-helper.sh)" >&2
		exit 1
	}
done

dir=$run/clusterkick
install -d -m 0700 "$dir" "$dir/vmrig.secrets"
cp "$here/profile.toml" "$dir/vmrig.toml"
for n in 1 2; do
	install -m 0600 "$secrets/bmc$n.pass" "$dir/vmrig.secrets/bmc$n.pass"
done
# The rig's corosync authkey (the host's corosync -t check uses it too).
install -m 0600 "$secrets/authkey" "$dir/vmrig.secrets/corosync.authkey"
t0=${EPOCHREALTIME/./}
# The cluster's other secrets (first-boot key, DRBD shared secret), made
# once as a user makes them: a build never makes one.
"$ck" secrets "$dir/vmrig.toml" >"$dir/secrets.log" 2>&1 || {
	cat "$dir/secrets.log" >&2
	echo "prepare-host: clusterkick secrets failed" >&2
	exit 1
}
"$ck" build --helper "$helper" --out "$dir/out" "$dir/vmrig.toml" >"$dir/build.log" 2>&1 || {
	cat "$dir/build.log" >&2
	echo "prepare-host: clusterkick build failed" >&2
	exit 1
}
t1=${EPOCHREALTIME/./}
echo "prepare-host: clusterkick build took $(((t1 - t0) / 1000)) ms ($(grep -c . "$dir/build.log") lines of notes and warnings in $dir/build.log)"
[ -d "$dir/out/vmrig" ] || {
	echo "prepare-host: the build wrote no $dir/out/vmrig" >&2
	exit 1
}
