//! LVM (the node VG and the shared VG on DRBD, under lvmlockd), wipefs,
//! mkfs.gfs2, and what reads and writes see (files on a GFS2 mount live on
//! the shared LV, replicated through DRBD while connected).

use super::*;

fn lv_row(name: &str, vg: &str, attr: &str, size_m: u64) -> String {
    format!("  {name:<10} {vg:<10} {attr} {size_m}.00\n")
}

/// `20G` -> MiB (lvcreate -L units, default M).
fn size_to_m(size: &str) -> u64 {
    let (num, unit) = match size.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&size[..i], &size[i..]),
        None => (size, "m"),
    };
    let n: f64 = num.parse().unwrap_or(0.0);
    let mult = match unit.to_ascii_lowercase().as_str() {
        "g" => 1024.0,
        "t" => 1024.0 * 1024.0,
        _ => 1.0,
    };
    (n * mult) as u64
}

impl World {
    /// The shared VG, as this node sees it (only through a Primary DRBD).
    fn visible_vg(&self, me: &str) -> Option<&SharedVg> {
        let n = self.node(me);
        n.drbd_readable().then_some(n.data.vg.as_ref()).flatten()
    }

    pub(super) fn lv(&self, me: &str, vglv: &str) -> Option<&SharedLv> {
        let (vg, lv) = vglv.split_once('/')?;
        self.node(me)
            .data
            .vg
            .as_ref()
            .filter(|v| v.name == vg)?
            .lvs
            .iter()
            .find(|l| l.name == lv)
    }

    pub(super) fn lvs(&self, me: &str, vg: &str) -> CmdResult {
        let n = self.node(me);
        if vg == n.backing_vg {
            let mut s = String::new();
            for l in &n.local_lvs {
                s.push_str(&lv_row(&l.name, vg, "-wi-a-----", l.size_m));
            }
            return res(0, s, "");
        }
        match self.visible_vg(me).filter(|v| v.name == vg) {
            Some(v) => {
                let mut s = String::new();
                for l in &v.lvs {
                    let active = n.active.contains(&format!("{vg}/{}", l.name));
                    let attr = if active { "-wi-a-----" } else { "-wi-------" };
                    s.push_str(&lv_row(&l.name, vg, attr, size_to_m(&l.size)));
                }
                res(0, s, "")
            }
            None => res(
                5,
                "",
                format!("  Volume group \"{vg}\" not found\n  Cannot process volume group {vg}\n"),
            ),
        }
    }

    pub(super) fn pvs(&self, me: &str) -> CmdResult {
        let n = self.node(me);
        let mut s = format!("  /dev/md1   {}\n", n.backing_vg);
        if n.drbd_readable() && n.data.pv {
            s.push_str(&format!(
                "  {}  {}\n",
                n.device(),
                n.data.vg.as_ref().map(|v| v.name.as_str()).unwrap_or("")
            ));
        }
        res(0, s, "")
    }

    pub(super) fn vgs(&self, me: &str) -> CmdResult {
        let n = self.node(me);
        let mut s = format!("  {} wz--n- \n", n.backing_vg);
        if let Some(v) = self.visible_vg(me) {
            let attr = if v.lock_type == "dlm" {
                "wz--ns"
            } else {
                "wz--n-"
            };
            s.push_str(&format!("  {} {attr} {}\n", v.name, v.lock_type));
        }
        res(0, s, "")
    }

    pub(super) fn lvcreate_local(
        &mut self,
        me: &str,
        size: &str,
        name: &str,
        vg: &str,
    ) -> CmdResult {
        let n = self.node_mut(me);
        if vg != n.backing_vg {
            return res(5, "", format!("  Volume group \"{vg}\" not found\n"));
        }
        if n.local_lvs.iter().any(|l| l.name == name) {
            return res(
                5,
                "",
                format!("  Logical Volume \"{name}\" already exists in volume group \"{vg}\"\n"),
            );
        }
        n.local_lvs.push(LocalLv {
            name: name.to_string(),
            size_m: size_to_m(size),
        });
        res(0, format!("  Logical volume \"{name}\" created.\n"), "")
    }

    /// Writes to the DRBD device reach the peer's copy while connected.
    pub(super) fn write_data(&mut self, me: &str, mut f: impl FnMut(&mut DrbdData)) {
        let peer = self.peer_of(me);
        let connected = self.node(me).drbd.net == "Connected";
        f(&mut self.node_mut(me).data);
        if connected {
            f(&mut self.node_mut(&peer).data);
        }
    }

    pub(super) fn pvcreate(&mut self, me: &str, dev: &str) -> CmdResult {
        let n = self.node(me);
        if dev != n.device() || !n.drbd_readable() {
            return res(5, "", format!("  Cannot use {dev}: device not found\n"));
        }
        if n.data.pv {
            return res(5, "", format!("  Can't initialize physical volume \"{dev}\" of volume group \"x\" without -ff\n"));
        }
        self.write_data(me, |d| d.pv = true);
        res(
            0,
            format!("  Physical volume \"{dev}\" successfully created.\n"),
            "",
        )
    }

    pub(super) fn vgcreate(&mut self, me: &str, vg: &str, dev: &str) -> CmdResult {
        if !self.runs_lvmlockd(me) {
            return res(5, "", "  Using a shared lock type requires lvmlockd.\n  Run `vgcreate --help' for more information.\n");
        }
        let n = self.node(me);
        if dev != n.device() || !n.drbd_readable() || !n.data.pv {
            return res(5, "", format!("  Cannot use {dev}: not a PV\n"));
        }
        if n.data.vg.is_some() {
            return res(
                5,
                "",
                format!("  Physical volume '{dev}' is already in volume group\n"),
            );
        }
        let vg = vg.to_string();
        self.write_data(me, |d| {
            d.vg = Some(SharedVg {
                name: vg.clone(),
                lock_type: "dlm".into(),
                lvs: Vec::new(),
            })
        });
        self.node_mut(me).lockspace = true;
        res(
            0,
            format!("  Volume group \"{vg}\" successfully created\n  VG {vg} starting dlm lockspace\n  Starting locking.  Waiting until locks are ready...\n"),
            "",
        )
    }

    fn runs_lvmlockd(&self, me: &str) -> bool {
        self.node(me)
            .resources
            .iter()
            .any(|(id, role)| id.contains("lvmlockd") && role == "Started")
    }

    pub(super) fn lock_start(&mut self, me: &str, vg: &str) -> CmdResult {
        if !self.runs_lvmlockd(me) {
            return res(
                5,
                "",
                "  WARNING: lvmlockd process is not running.\n  Cannot start VG lockspace\n",
            );
        }
        if self.visible_vg(me).is_none_or(|v| v.name != vg) {
            return res(5, "", format!("  Volume group \"{vg}\" not found\n"));
        }
        self.node_mut(me).lockspace = true;
        res(
            0,
            "  Starting locking.  Waiting until locks are ready...\n",
            "",
        )
    }

    pub(super) fn lvcreate_shared(
        &mut self,
        me: &str,
        size: &str,
        name: &str,
        vg: &str,
    ) -> CmdResult {
        if self.visible_vg(me).is_none_or(|v| v.name != vg) {
            return res(5, "", format!("  Volume group \"{vg}\" not found\n"));
        }
        if !self.node(me).lockspace {
            return res(
                5,
                "",
                format!("  VG {vg} lock failed: lock start in progress\n"),
            );
        }
        if self.lv(me, &format!("{vg}/{name}")).is_some() {
            return res(
                5,
                "",
                format!("  Logical Volume \"{name}\" already exists in volume group \"{vg}\"\n"),
            );
        }
        let stale = self
            .node(me)
            .faults
            .stale_gfs2_on_lvcreate
            .iter()
            .any(|s| s == name);
        let cluster = self.cluster.clone();
        self.write_data(me, |d| {
            if let Some(v) = d.vg.as_mut() {
                v.lvs.push(SharedLv {
                    name: name.to_string(),
                    size: size.to_string(),
                    gfs2: stale.then(|| format!("{cluster}:old_{name}")),
                    files: BTreeMap::new(),
                });
            }
        });
        res(
            0,
            format!("  Logical volume \"{name}\" created.\n"),
            format!("  WARNING: Logical volume {vg}/{name} not zeroed.\n"),
        )
    }

    pub(super) fn lvchange(&mut self, me: &str, vglv: &str, on: bool) -> CmdResult {
        if self.lv(me, vglv).is_none() || (self.visible_vg(me).is_none() && on) {
            return res(
                5,
                "",
                format!("  Failed to find logical volume \"{vglv}\"\n"),
            );
        }
        let n = self.node_mut(me);
        if on {
            if !n.lockspace {
                return res(5, "", "  LV locked by other host\n");
            }
            n.active.insert(vglv.to_string());
        } else {
            if n.mounts.iter().any(|m| m.lv == vglv) {
                return res(
                    5,
                    "",
                    format!("  Logical volume {vglv} contains a filesystem in use.\n"),
                );
            }
            n.active.remove(vglv);
        }
        res(0, "", "")
    }

    pub(super) fn mkfs(&mut self, me: &str, args: &[&str]) -> CmdResult {
        let mut table = None;
        let mut it = args.iter();
        let mut dev = None;
        while let Some(a) = it.next() {
            match *a {
                "-t" => table = it.next().map(|s| s.to_string()),
                "-p" | "-j" => {
                    it.next();
                }
                "-O" => {}
                d => dev = Some(d.to_string()),
            }
        }
        let (Some(table), Some(dev)) = (table, dev) else {
            return res(255, "", "mkfs.gfs2: usage error\n");
        };
        let vglv = dev.trim_start_matches("/dev/").to_string();
        if !self.node(me).active.contains(&vglv) {
            return res(
                255,
                "",
                format!("Could not open '{dev}': No such file or directory\n"),
            );
        }
        self.write_data(me, |d| {
            if let Some(v) = d.vg.as_mut() {
                let name = v.name.clone();
                if let Some(l) = v
                    .lvs
                    .iter_mut()
                    .find(|l| format!("{name}/{}", l.name) == vglv)
                {
                    l.gfs2 = Some(table.clone());
                    l.files.clear();
                }
            }
        });
        res(0, format!("{dev} is a gfs2 file system\nDevice:                    {dev}\nBlock size:                4096\nLocking protocol:          \"lock_dlm\"\nLock table:                \"{table}\"\n"), "")
    }

    /// `wipefs --json DEV`, in util-linux 2.38's layout.
    pub(super) fn wipefs(&self, me: &str, dev: &str) -> CmdResult {
        let n = self.node(me);
        let mut sigs: Vec<(String, String, Option<String>)> = Vec::new();
        if dev == n.backing_path() && n.has_backing() {
            if n.data.pv && !n.faults.wipefs_blind {
                sigs.push(("0x218".into(), "LVM2_member".into(), None));
            }
            if let Some(r) = &n.data.raw {
                sigs.push(("0x10000".into(), r.clone(), None));
            }
            if n.drbd.md.is_some() {
                sigs.push(("0x63ffff03c".into(), "drbd".into(), None));
            }
        } else if dev == n.device() && n.drbd_readable() {
            if n.data.pv {
                sigs.push(("0x218".into(), "LVM2_member".into(), None));
            }
        } else if let Some(l) = self
            .lv(me, dev.trim_start_matches("/dev/"))
            .filter(|_| n.active.contains(dev.trim_start_matches("/dev/")))
        {
            if let Some(t) = &l.gfs2 {
                sigs.push(("0x10000".into(), "gfs2".into(), Some(t.clone())));
            }
        } else {
            return res(1, "", format!("wipefs: error: {dev}: probing initialization failed: No such file or directory\n"));
        }
        let name = dev.rsplit('/').next().unwrap_or(dev);
        let body: Vec<String> = sigs
            .iter()
            .map(|(off, ty, label)| {
                format!(
                    "      {{\n         \"device\": \"{name}\",\n         \"offset\": \"{off}\",\n         \"type\": \"{ty}\",\n         \"uuid\": null,\n         \"label\": {}\n      }}",
                    label.as_ref().map_or("null".to_string(), |l| format!("\"{l}\""))
                )
            })
            .collect();
        res(
            0,
            format!("{{\n   \"signatures\": [\n{}\n   ]\n}}\n", body.join(",\n")),
            "",
        )
    }

    /// Runs `f` on the file map a path lives in: a GFS2 mount's LV (shared
    /// through DRBD) or the node's own files.
    pub(super) fn with_file_home<R>(
        &mut self,
        me: &str,
        path: &str,
        f: impl Fn(&mut BTreeMap<String, String>) -> R,
    ) -> R {
        if let Some(m) = self.node(me).mount_for(path).cloned() {
            let mut out = None;
            self.write_data(me, |d| {
                if let Some(v) = d.vg.as_mut() {
                    let vname = v.name.clone();
                    if let Some(lv) = v
                        .lvs
                        .iter_mut()
                        .find(|l| format!("{vname}/{}", l.name) == m.lv)
                    {
                        let r = f(&mut lv.files);
                        if out.is_none() {
                            out = Some(r);
                        }
                    }
                }
            });
            if let Some(r) = out {
                return r;
            }
        }
        f(&mut self.node_mut(me).files)
    }

    pub(super) fn read(&mut self, me: &str, path: &str) -> io::Result<String> {
        let not_found = || {
            Err(io::Error::new(
                io::ErrorKind::NotFound,
                "No such file or directory",
            ))
        };
        match path {
            "/proc/drbd" => {
                self.advance_sync();
                Ok(self.proc_drbd(me))
            }
            "/proc/mounts" => {
                let n = self.node(me);
                let mut s = format!("sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n/dev/mapper/{}-lv_root / ext4 rw,relatime 0 0\n", n.backing_vg);
                for m in &n.mounts {
                    s.push_str(&format!(
                        "/dev/mapper/{} {} gfs2 rw,noatime 0 0\n",
                        m.lv.replace('/', "-"),
                        m.dir
                    ));
                }
                Ok(s)
            }
            _ => {
                let n = self.node(me);
                if let Some(m) = n.mount_for(path) {
                    let lv = m.lv.clone();
                    return self
                        .lv(me, &lv)
                        .and_then(|l| l.files.get(path).cloned())
                        .map_or_else(not_found, Ok);
                }
                n.files.get(path).cloned().map_or_else(not_found, Ok)
            }
        }
    }

    pub(super) fn write(&mut self, me: &str, path: &str, contents: &str) -> io::Result<()> {
        let (p, c) = (path.to_string(), contents.to_string());
        self.with_file_home(me, path, |files| {
            files.insert(p.clone(), c.clone());
        });
        Ok(())
    }
}
