//! LVM: the local VG with the backing LV, the clustered VG on the DRBD
//! device with per-node activation, clvmd.

use super::*;

impl World {
    pub(super) fn lvs(&self, me: &str, vg: &str) -> CmdResult {
        let n = self.node(me);
        if vg == n.backing_vg {
            let mut out = String::new();
            for lv in &n.local_lvs {
                let attr = if lv.name == "lv00" || lv.name == "lv01" {
                    "-wi-ao"
                } else {
                    "-wi-a-"
                };
                out.push_str(&format!("  {} {} {attr} {}.00\n", lv.name, vg, lv.size_m));
            }
            return res(0, out, "");
        }
        match &n.data.vg {
            Some(cv) if cv.name == vg && n.drbd_readable() => {
                if cv.clustered && !n.is_running("clvmd") {
                    return res(
                        5,
                        "",
                        format!("  connect() failed on local socket: Connection refused\n  WARNING: Falling back to local file-based locking.\n  Volume Groups with the clustered attribute will be inaccessible.\n  Skipping clustered volume group {vg}\n"),
                    );
                }
                let mut out = String::new();
                for lv in &cv.lvs {
                    let key = format!("{vg}/{}", lv.name);
                    let open = n.mounts.iter().any(|m| m.lv == key);
                    let attr = match (n.active.contains(&key), open) {
                        (true, true) => "-wi-ao",
                        (true, false) => "-wi-a-",
                        _ => "-wi---",
                    };
                    let m = size_to_m(&lv.size).unwrap_or(0);
                    out.push_str(&format!("  {} {vg} {attr} {m}.00\n", lv.name));
                }
                res(0, out, "")
            }
            _ => res(5, "", format!("  Volume group \"{vg}\" not found\n")),
        }
    }

    pub(super) fn pvs(&self, me: &str) -> CmdResult {
        let n = self.node(me);
        let mut out = format!("  /dev/sda2  {}\n", n.backing_vg);
        if n.drbd_readable() && n.data.pv {
            match &n.data.vg {
                Some(v) => out.push_str(&format!("  {} {}\n", n.device(), v.name)),
                None => out.push_str(&format!("  {}           \n", n.device())),
            }
        }
        res(0, out, "")
    }

    pub(super) fn vgs(&self, me: &str) -> CmdResult {
        let n = self.node(me);
        let mut out = format!("  {} wz--n-\n", n.backing_vg);
        let mut err = String::new();
        if let Some(v) = n.data.vg.as_ref().filter(|_| n.drbd_readable()) {
            if v.clustered && !n.is_running("clvmd") {
                err.push_str(&format!("  Skipping clustered volume group {}\n", v.name));
            } else {
                out.push_str(&format!(
                    "  {} wz--n{}\n",
                    v.name,
                    if v.clustered { "c" } else { "-" }
                ));
            }
        }
        res(0, out, err)
    }

    pub(super) fn lvcreate(&mut self, me: &str, size: &str, name: &str, vg: &str) -> CmdResult {
        let Some(size_m) = size_to_m(size) else {
            return res(3, "", format!("  Invalid argument for --size: {size}\n"));
        };
        let n = self.node(me);
        if vg == n.backing_vg {
            if n.local_lvs.iter().any(|l| l.name == name) {
                return res(
                    5,
                    "",
                    format!(
                        "  Logical volume \"{name}\" already exists in volume group \"{vg}\"\n"
                    ),
                );
            }
            self.node_mut(me).local_lvs.push(LocalLv {
                name: name.into(),
                size_m,
            });
            return res(0, format!("  Logical volume \"{name}\" created\n"), "");
        }
        let visible = n.data.vg.as_ref().is_some_and(|v| v.name == vg) && n.drbd_readable();
        if !visible {
            return res(5, "", format!("  Volume group \"{vg}\" not found\n"));
        }
        if !n.is_running("clvmd") {
            return res(5, "", format!("  connect() failed on local socket: Connection refused\n  Skipping clustered volume group {vg}\n"));
        }
        if n.data
            .vg
            .as_ref()
            .is_some_and(|v| v.lvs.iter().any(|l| l.name == name))
        {
            return res(
                5,
                "",
                format!("  Logical volume \"{name}\" already exists in volume group \"{vg}\"\n"),
            );
        }
        let stale = n.faults.stale_gfs2_on_lvcreate.iter().any(|s| s == name);
        let cluster = self.cluster.clone();
        let lv = ClLv {
            name: name.into(),
            size: size.into(),
            gfs2: stale.then(|| Gfs2Sb {
                proto: "lock_dlm".into(),
                table: format!("{cluster}:old_{name}"),
                journals: 2,
            }),
            files: BTreeMap::new(),
        };
        self.write_data(me, |d| {
            if let Some(v) = d.vg.as_mut() {
                v.lvs.push(lv.clone());
            }
        });
        self.activate_everywhere(&format!("{vg}/{name}"));
        res(0, format!("  Logical volume \"{name}\" created\n"), "")
    }

    /// Activation in a clustered VG goes to every node running clvmd that
    /// can see the VG.
    pub(super) fn activate_everywhere(&mut self, key: &str) {
        for n in self.nodes.values_mut() {
            if n.is_running("clvmd") && n.clustered_vg_visible() {
                n.active.insert(key.to_string());
            }
        }
    }

    pub(super) fn pvcreate(&mut self, me: &str, dev: &str) -> CmdResult {
        let n = self.node(me);
        if dev != n.device() {
            return res(
                5,
                "",
                format!("  Device {dev} not found (or ignored by filtering).\n"),
            );
        }
        if !n.drbd_readable() {
            return res(
                5,
                "",
                format!("  Can't open {dev} exclusively.  Mounted filesystem?\n"),
            );
        }
        if let Some(v) = &n.data.vg {
            return res(5, "", format!("  Can't initialize physical volume \"{dev}\" of volume group \"{}\" without -ff\n", v.name));
        }
        self.write_data(me, |d| d.pv = true);
        res(
            0,
            format!("  Physical volume \"{dev}\" successfully created\n"),
            "",
        )
    }

    pub(super) fn vgcreate(&mut self, me: &str, vg: &str, dev: &str) -> CmdResult {
        let n = self.node(me);
        if !n.is_running("clvmd") {
            return res(5, "", "  connect() failed on local socket: Connection refused\n  WARNING: Falling back to local file-based locking.\n  Volume Groups with the clustered attribute will be inaccessible.\n");
        }
        if dev != n.device() || !n.drbd_readable() || !n.data.pv {
            return res(5, "", format!("  Physical volume {dev} not found\n"));
        }
        if n.data.vg.is_some() {
            return res(
                5,
                "",
                format!("  Physical volume '{dev}' is already in volume group\n"),
            );
        }
        let vg_s = vg.to_string();
        self.write_data(me, |d| {
            d.vg = Some(ClVg {
                name: vg_s.clone(),
                clustered: true,
                lvs: Vec::new(),
            })
        });
        res(
            0,
            format!("  Clustered volume group \"{vg}\" successfully created\n"),
            "",
        )
    }

    pub(super) fn pvscan(&self, me: &str) -> CmdResult {
        let n = self.node(me);
        let mut out = format!(
            "  PV /dev/sda2    VG {}    lvm2 [465.50 GB / 43.97 GB free]\n",
            n.backing_vg
        );
        if n.drbd_readable() && n.data.pv {
            out.push_str(&format!(
                "  PV {}   VG {}     lvm2 [399.98 GB / 359.98 GB free]\n",
                n.device(),
                n.data.vg.as_ref().map(|v| v.name.as_str()).unwrap_or("")
            ));
        }
        out.push_str("  Total: 2 [865.48 GB] / in use: 2 [865.48 GB] / in no VG: 0 [0   ]\n");
        res(0, out, "")
    }

    pub(super) fn vgscan(&self, me: &str) -> CmdResult {
        let n = self.node(me);
        let mut out = format!("  Reading all physical volumes.  This may take a while...\n  Found volume group \"{}\" using metadata type lvm2\n", n.backing_vg);
        if let Some(v) = n.data.vg.as_ref().filter(|_| n.drbd_readable()) {
            out.push_str(&format!(
                "  Found volume group \"{}\" using metadata type lvm2\n",
                v.name
            ));
        }
        res(0, out, "")
    }

    pub(super) fn lvscan(&self, me: &str) -> CmdResult {
        let n = self.node(me);
        let mut out = String::new();
        for lv in &n.local_lvs {
            out.push_str(&format!(
                "  ACTIVE            '/dev/{}/{}' [{} MB] inherit\n",
                n.backing_vg, lv.name, lv.size_m
            ));
        }
        if let Some(v) = n.data.vg.as_ref().filter(|_| n.drbd_readable()) {
            for lv in &v.lvs {
                let key = format!("{}/{}", v.name, lv.name);
                out.push_str(&format!(
                    "  {:<17} '/dev/{key}' [{}] inherit\n",
                    if n.active.contains(&key) {
                        "ACTIVE"
                    } else {
                        "inactive"
                    },
                    lv.size
                ));
            }
        }
        res(0, out, "")
    }

    pub(super) fn lvchange(&mut self, me: &str, path: &str, up: bool) -> CmdResult {
        let key = path.trim_start_matches("/dev/").to_string();
        let n = self.node(me);
        let exists = n
            .data
            .vg
            .as_ref()
            .filter(|_| n.drbd_readable())
            .is_some_and(|v| {
                v.lvs
                    .iter()
                    .any(|l| format!("{}/{}", v.name, l.name) == key)
            });
        if !exists {
            return res(
                5,
                "",
                "  One or more specified logical volume(s) not found.\n",
            );
        }
        if !n.is_running("clvmd") {
            return res(
                5,
                "",
                "  connect() failed on local socket: Connection refused\n",
            );
        }
        if up {
            self.activate_everywhere(&key);
        } else {
            if n.mounts.iter().any(|m| m.lv == key) {
                return res(5, "", format!("  LV {key} in use: not deactivating\n"));
            }
            self.node_mut(me).active.remove(&key);
        }
        res(0, "", "")
    }

    pub(super) fn clvmd_start(&mut self, me: &str) -> CmdResult {
        if !self.node(me).is_running("cman") {
            return res(1, "Starting clvmd: clvmd could not connect to cluster manager\nConsult syslog for more information\n                                                           [FAILED]\n", "");
        }
        self.node_mut(me).running.insert("clvmd".into(), true);
        if let Some(v) = self
            .node(me)
            .data
            .vg
            .clone()
            .filter(|_| self.node(me).drbd_readable())
        {
            for lv in &v.lvs {
                self.activate_everywhere(&format!("{}/{}", v.name, lv.name));
            }
        }
        res(0, "Starting clvmd:                                            [  OK  ]\nActivating VGs:   3 logical volume(s) in volume group \"an-lvm01\" now active\n                                                           [  OK  ]\n", "")
    }
}
