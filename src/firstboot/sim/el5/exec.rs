//! Which command goes where: the dispatcher from an argv to the subsystem
//! that answers it, with the exit codes and text the EL5 tools print.

use super::*;

impl World {
    /// Answers one command for node `me`: (result, whether it is a change).
    pub fn exec(&mut self, me: &str, argv: &[&str]) -> (CmdResult, bool) {
        let q = |r: CmdResult| (r, false);
        let c = |r: CmdResult| (r, true);
        match argv {
            ["/etc/init.d/cman", "status"] => q(if self.node(me).is_running("cman") {
                res(0, "cman is running.\n", "")
            } else {
                res(1, "ccsd is stopped\n", "")
            }),
            [script, "start"] if script.starts_with("/etc/init.d/") => {
                let svc = script.trim_start_matches("/etc/init.d/").to_string();
                c(self.service_start(me, &svc))
            }
            ["/etc/init.d/cman", "stop"] => {
                let n = self.node_mut(me);
                n.running.insert("cman".into(), false);
                n.running.insert("clvmd".into(), false);
                n.subsys.remove("cman");
                n.subsys.remove("clvmd");
                c(res(0, "Stopping cluster: \n   Stopping fencing... done\n   Stopping cman... done\n   Stopping ccsd... done\n   Unmounting configfs... done\n                                                           [  OK  ]\n", ""))
            }
            ["cman_tool", "status"] => q(self.cman_status(me)),
            ["cman_tool", "nodes"] => q(self.cman_nodes(me)),
            ["chkconfig", svc] => {
                let (code, err) = self.node_mut(me).chkconfig(&[svc]);
                q(res(code, "", err))
            }
            ["chkconfig", args @ ..] => {
                let (code, err) = self.node_mut(me).chkconfig(args);
                c(res(code, "", err))
            }
            ["fence_node", name] => c(self.fence_node(me, name)),
            ["lvs", "--noheadings", "-o", "lv_name,vg_name,lv_attr,lv_size", "--units", "m", "--nosuffix", vg] => {
                q(self.lvs(me, vg))
            }
            ["pvs", "--noheadings", "-o", "pv_name,vg_name"] => q(self.pvs(me)),
            ["vgs", "--noheadings", "-o", "vg_name,vg_attr"] => q(self.vgs(me)),
            ["lvcreate", "-L", size, "-n", name, vg] => c(self.lvcreate(me, size, name, vg)),
            ["pvcreate", dev] => c(self.pvcreate(me, dev)),
            ["vgcreate", "-c", "y", vg, dev] => c(self.vgcreate(me, vg, dev)),
            ["pvscan"] => q(self.pvscan(me)),
            ["vgscan"] => q(self.vgscan(me)),
            ["lvscan"] => q(self.lvscan(me)),
            ["lvchange", "-a", "y", path] => c(self.lvchange(me, path, true)),
            ["lvchange", "-a", "ln", path] => c(self.lvchange(me, path, false)),
            ["/etc/init.d/clvmd", "status"] => q(if self.node(me).is_running("clvmd") {
                res(
                    0,
                    "clvmd (pid 4242) is running...\nactive volumes: lv00 lv01 lv02\n",
                    "",
                )
            } else {
                res(3, "clvmd is stopped\nactive volumes: lv00 lv01 lv02\n", "")
            }),
            ["gfs2_tool", "sb", dev, field] => q(self.gfs2_sb(me, dev, field)),
            ["mkfs.gfs2", args @ ..] => c(self.mkfs(me, args)),
            ["mkdir", "-p", dir] => {
                let n = self.node_mut(me);
                let mut p = String::new();
                for part in dir.split('/').filter(|s| !s.is_empty()) {
                    p.push('/');
                    p.push_str(part);
                    n.dirs.insert(p.clone());
                }
                c(res(0, "", ""))
            }
            ["mount", dir] => c(self.mount(me, dir)),
            ["umount", dir] => {
                let n = self.node_mut(me);
                let before = n.mounts.len();
                n.mounts.retain(|m| m.dir != *dir);
                c(if n.mounts.len() < before {
                    res(0, "", "")
                } else {
                    res(1, "", format!("umount: {dir}: not mounted\n"))
                })
            }
            ["rm", "-f", path] => {
                let path = path.to_string();
                self.with_file_home(me, &path, |files| {
                    files.remove(&path);
                });
                c(res(0, "", ""))
            }
            ["drbdadm", rest @ ..] => self.drbdadm(me, rest),
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
}
