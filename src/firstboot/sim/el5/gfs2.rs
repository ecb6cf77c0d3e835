//! GFS2: superblocks on the clustered LVs, mkfs.gfs2, mounts.

use super::*;

impl World {
    pub(super) fn cl_lv<'a>(&'a self, me: &str, dev: &str) -> Option<&'a ClLv> {
        let n = self.node(me);
        let key = dev.trim_start_matches("/dev/");
        if !n.active.contains(key) || !n.drbd_readable() {
            return None;
        }
        let v = n.data.vg.as_ref()?;
        v.lvs
            .iter()
            .find(|l| format!("{}/{}", v.name, l.name) == key)
    }

    pub(super) fn gfs2_sb(&self, me: &str, dev: &str, field: &str) -> CmdResult {
        let Some(lv) = self.cl_lv(me, dev) else {
            return res(
                1,
                "",
                format!("can't open {dev}: No such file or directory\n"),
            );
        };
        let Some(sb) = &lv.gfs2 else {
            return res(
                1,
                "",
                format!("gfs2_tool: there isn't a GFS2 filesystem on {dev}\n"),
            );
        };
        match field {
            "proto" => res(0, format!("current lock protocol name = \"{}\"\n", sb.proto), ""),
            "table" => res(0, format!("current lock table name = \"{}\"\n", sb.table), ""),
            "all" => res(
                0,
                format!("  mh_magic = 0x01161970\n  mh_type = 1\n  mh_format = 100\n  sb_fs_format = 1801\n  sb_multihost_format = 1900\n  sb_bsize = 4096\n  sb_bsize_shift = 12\n  no_formal_ino = 2\n  no_addr = 23\n  no_formal_ino = 1\n  no_addr = 22\n  sb_lockproto = {}\n  sb_locktable = {}\n", sb.proto, sb.table),
                "",
            ),
            _ => res(1, "", format!("gfs2_tool: unknown field {field}\n")),
        }
    }

    pub(super) fn mkfs(&mut self, me: &str, args: &[&str]) -> CmdResult {
        let mut force = false;
        let (mut proto, mut journals, mut table, mut dev) = (None, None, None, None);
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match *a {
                "-O" => force = true,
                "-p" => proto = it.next().map(|s| s.to_string()),
                "-j" => journals = it.next().and_then(|s| s.parse::<u32>().ok()),
                "-t" => table = it.next().map(|s| s.to_string()),
                d if !d.starts_with('-') => dev = Some(d.to_string()),
                other => return res(1, "", format!("mkfs.gfs2: invalid option -- {other}\n")),
            }
        }
        let Some(dev) = dev else {
            return res(1, "", "mkfs.gfs2: no device specified (try -h for help)\n");
        };
        let (Some(proto), Some(journals), Some(table)) = (proto, journals, table) else {
            return res(1, "", "mkfs.gfs2: missing -p, -j or -t\n");
        };
        if proto != "lock_dlm" && proto != "lock_nolock" {
            return res(
                1,
                "",
                format!("mkfs.gfs2: Invalid lock protocol: {proto}\n"),
            );
        }
        if !table.contains(':') {
            return res(1, "", "mkfs.gfs2: Invalid lock table: missing colon\n");
        }
        if self.cl_lv(me, &dev).is_none() {
            return res(
                1,
                "",
                format!("mkfs.gfs2: can't open {dev}: No such file or directory\n"),
            );
        }
        if !force {
            // stdin is closed: the prompt reads EOF and gives up.
            return res(1, format!("This will destroy any data on {dev}.\n\nAre you sure you want to proceed? [y/n] "), "");
        }
        let key = dev.trim_start_matches("/dev/").to_string();
        let sb = Gfs2Sb {
            proto: proto.clone(),
            table: table.clone(),
            journals,
        };
        self.write_data(me, |d| {
            if let Some(v) = d.vg.as_mut() {
                let vname = v.name.clone();
                if let Some(lv) = v
                    .lvs
                    .iter_mut()
                    .find(|l| format!("{vname}/{}", l.name) == key)
                {
                    lv.gfs2 = Some(sb.clone());
                    lv.files.clear();
                }
            }
        });
        res(
            0,
            format!("Device:                    {dev}\nBlocksize:                 4096\nDevice Size                20.00 GB (5242880 blocks)\nFilesystem Size:           20.00 GB (5242878 blocks)\nJournals:                  {journals}\nResource Groups:           80\nLocking Protocol:          \"{proto}\"\nLock Table:                \"{table}\"\n"),
            "",
        )
    }

    /// The gfs2 init script's `start`: `mount -a -t gfs2` (every gfs2 entry
    /// of fstab without `noauto` that is not mounted); it exits 0 whatever
    /// the mounts did, printing `[FAILED]` for a failed one.
    pub(super) fn gfs2_start(&mut self, me: &str) -> CmdResult {
        let fstab = self
            .node(me)
            .files
            .get("/etc/fstab")
            .cloned()
            .unwrap_or_default();
        let dirs: Vec<String> = crate::firstboot::platform::common::mounts::parse_mounts(&fstab)
            .into_iter()
            .filter(|e| e.fstype == "gfs2")
            .map(|e| e.dir)
            .filter(|d| !self.node(me).mounts.iter().any(|m| &m.dir == d))
            .collect();
        if dirs.is_empty() {
            return res(0, "", "");
        }
        let mut failed = String::new();
        for d in &dirs {
            let r = self.mount(me, d);
            if !r.success() {
                failed.push_str(&r.stderr);
            }
        }
        if failed.is_empty() {
            res(
                0,
                "Mounting GFS2 filesystems:                                 [  OK  ]\n",
                "",
            )
        } else {
            res(
                0,
                "Mounting GFS2 filesystems:                                 [FAILED]\n",
                failed,
            )
        }
    }

    pub(super) fn mount(&mut self, me: &str, dir: &str) -> CmdResult {
        let n = self.node(me);
        let fstab = n.files.get("/etc/fstab").cloned().unwrap_or_default();
        let Some(entry) = crate::firstboot::platform::common::mounts::parse_mounts(&fstab)
            .into_iter()
            .find(|e| e.dir == dir)
        else {
            return res(
                1,
                "",
                format!("mount: can't find {dir} in /etc/fstab or /etc/mtab\n"),
            );
        };
        if !n.dirs.contains(dir) {
            return res(32, "", format!("mount: mount point {dir} does not exist\n"));
        }
        if n.mounts.iter().any(|m| m.dir == dir) {
            return res(
                32,
                "",
                format!("mount: {} already mounted or {dir} busy\n", entry.device),
            );
        }
        if entry.fstype != "gfs2" {
            return res(
                32,
                "",
                format!("mount: unknown filesystem type '{}'\n", entry.fstype),
            );
        }
        if !n.is_running("cman") {
            return res(1, "", "/sbin/mount.gfs2: can't connect to gfs_controld: Connection refused\n/sbin/mount.gfs2: gfs_controld not running\n");
        }
        let Some(lv) = self.cl_lv(me, &entry.device) else {
            return res(
                32,
                "",
                format!("mount: special device {} does not exist\n", entry.device),
            );
        };
        let Some(sb) = &lv.gfs2 else {
            return res(
                1,
                "",
                format!(
                    "/sbin/mount.gfs2: there isn't a GFS2 filesystem on {}\n",
                    entry.device
                ),
            );
        };
        if sb.table.split(':').next() != Some(self.cluster.as_str()) {
            return res(1, "", "/sbin/mount.gfs2: fs is for a different cluster\n/sbin/mount.gfs2: error mounting lockproto lock_dlm\n");
        }
        let key = entry.device.trim_start_matches("/dev/").to_string();
        self.node_mut(me).mounts.push(ModelMount {
            device: entry.device,
            dir: dir.into(),
            lv: key,
        });
        res(0, "", "")
    }
}
