# Check 3's evidence on one node (run by the rig through the agent): how
# often the helper started, each destructive command it ran with how many
# times (from its log's "run:" lines), and how many ledger entries of its
# state file are left "started" (a command begun and never recorded done).
# shellcheck shell=bash
l=/var/log/clusterkick-firstboot.log
s=/var/lib/clusterkick/firstboot.state
echo "starts $(grep -c 'clusterkick-firstboot\[[0-9]*\]: starting' "$l")"
grep -o 'run: .*' "$l" |
	grep -E 'create-md|mkfs\.gfs2|pvcreate|vgcreate|lvcreate|cibadmin --replace|primary --force|new-current-uuid|clear-bitmap' |
	sort | uniq -c | sed 's/^ */ran /'
echo "ledger-started $(grep -c '^status = "started"' "$s")"
grep -A2 '^op = ' "$s" | sed 's/^/ledger: /'
