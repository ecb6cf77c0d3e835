//! Which command goes where, and systemd and corosync: units started,
//! enabled, and votequorum's view (two_node, wait_for_all).

use super::*;

const UNITS: &[&str] = &[
    "corosync.service",
    "pacemaker.service",
    "clusterkick-firstboot.service",
];

impl World {
    /// Answers one command for node `me`: (result, whether it is a change).
    pub fn exec(&mut self, me: &str, argv: &[&str]) -> (CmdResult, bool) {
        let q = |r: CmdResult| (r, false);
        let c = |r: CmdResult| (r, true);
        match argv {
            ["systemctl", "is-active", "--quiet", unit] => q(res(
                if self.node(me).is_running(unit) { 0 } else { 3 },
                "",
                "",
            )),
            ["systemctl", "start", unit] => c(self.unit_start(me, unit)),
            ["systemctl", "enable", "--no-reload", units @ ..]
            | ["systemctl", "disable", "--no-reload", units @ ..] => {
                let on = argv[1] == "enable";
                let mut err = String::new();
                for u in units {
                    if !UNITS.contains(u) {
                        err.push_str(&format!(
                            "Failed to {} unit: Unit file {u} does not exist.\n",
                            argv[1]
                        ));
                        continue;
                    }
                    let n = self.node_mut(me);
                    if on {
                        n.enabled.insert(u.to_string());
                    } else {
                        n.enabled.remove(*u);
                    }
                }
                c(if err.is_empty() {
                    res(0, "", "")
                } else {
                    res(1, "", err)
                })
            }
            ["corosync-quorumtool", "-s"] => q(self.quorumtool(me)),
            ["crm_mon", "--one-shot", "--inactive", "--output-as=xml"] => q(self.crm_mon(me)),
            ["cibadmin", "--query", "--scope", "resources"] => q(self.cib_query(me)),
            ["cibadmin", "--replace", "--scope", "configuration", "--xml-file", file] => {
                c(self.cib_replace(me, file))
            }
            ["crm_resource", "--resource", id, "--meta", "--delete-parameter", "target-role"] => {
                c(self.crm_resource_delete(me, id))
            }
            ["drbdadm", rest @ ..] => self.drbdadm(me, rest),
            ["drbdsetup", "status", r, "--json"] => q(self.drbdsetup_status(me, r)),
            ["wipefs", "--json", dev] => q(self.wipefs(me, dev)),
            ["lvs", "--noheadings", "-o", "lv_name,vg_name,lv_attr,lv_size", "--units", "m", "--nosuffix", vg] => {
                q(self.lvs(me, vg))
            }
            ["pvs", "--noheadings", "-o", "pv_name,vg_name"] => q(self.pvs(me)),
            ["vgs", "--noheadings", "-o", "vg_name,vg_attr,vg_lock_type"] => q(self.vgs(me)),
            ["lvcreate", "-L", size, "-n", name, vg] => c(self.lvcreate_local(me, size, name, vg)),
            ["lvcreate", "--activate", "n", "-L", size, "-n", name, vg] => {
                c(self.lvcreate_shared(me, size, name, vg))
            }
            ["pvcreate", dev] => c(self.pvcreate(me, dev)),
            ["vgcreate", "--shared", vg, dev] => c(self.vgcreate(me, vg, dev)),
            ["vgchange", "--lock-start", vg] => c(self.lock_start(me, vg)),
            ["lvchange", "--activate", mode @ ("sy" | "n"), vglv] => {
                c(self.lvchange(me, vglv, *mode == "sy"))
            }
            ["mkfs.gfs2", args @ ..] => c(self.mkfs(me, args)),
            ["rm", "-f", path] => {
                let path = path.to_string();
                self.with_file_home(me, &path, |files| {
                    files.remove(&path);
                });
                c(res(0, "", ""))
            }
            _ => (
                res(
                    127,
                    "",
                    format!("sim: command not simulated: {}\n", Argv::new(argv)),
                ),
                true,
            ),
        }
    }

    /// `systemctl start`: pacemaker.service Requires corosync.service.
    pub(super) fn unit_start(&mut self, me: &str, unit: &str) -> CmdResult {
        if !UNITS.contains(&unit) {
            return res(
                5,
                "",
                format!("Failed to start {unit}: Unit {unit} not found.\n"),
            );
        }
        let n = self.node_mut(me);
        if unit == "pacemaker.service" {
            n.running.insert("corosync.service".into());
        }
        n.running.insert(unit.to_string());
        res(0, "", "")
    }

    /// votequorum with two_node (and so wait_for_all): quorate once both
    /// nodes were seen together since this node's corosync started.
    pub(super) fn quorate(&self, me: &str) -> bool {
        let n = self.node(me);
        n.is_running("corosync.service") && n.seen_both
    }

    fn corosync_members(&self) -> Vec<&NodeWorld> {
        self.nodes
            .values()
            .filter(|n| n.is_running("corosync.service"))
            .collect()
    }

    /// `corosync-quorumtool -s` as corosync 3.1 prints it.
    fn quorumtool(&self, me: &str) -> CmdResult {
        let n = self.node(me);
        if !n.is_running("corosync.service") {
            return res(1, "", "Cannot initialize CMAP service\n");
        }
        let members = self.corosync_members();
        let quorate = self.quorate(me);
        let mut s = format!(
            "Quorum information\n------------------\nDate:             Tue Dec  2 00:00:00 2025\nQuorum provider:  corosync_votequorum\nNodes:            {}\nNode ID:          {}\nRing ID:          1.{}\nQuorate:          {}\n\nVotequorum information\n----------------------\nExpected votes:   2\nHighest expected: 2\nTotal votes:      {}\nQuorum:           1 {}\nFlags:            2Node {}WaitForAll \n\nMembership information\n----------------------\n    Nodeid      Votes Name\n",
            members.len(),
            n.id,
            members.len() * 4,
            if quorate { "Yes" } else { "No" },
            members.len(),
            if quorate { " " } else { "Activity blocked" },
            if quorate { "Quorate " } else { "" },
        );
        let mut sorted = members.clone();
        sorted.sort_by_key(|m| m.id);
        for m in sorted {
            s.push_str(&format!(
                "{:>10} {:>10} {}{}\n",
                m.id,
                1,
                m.name,
                if m.id == n.id { " (local)" } else { "" }
            ));
        }
        res(if quorate { 0 } else { 2 }, s, "")
    }
}
