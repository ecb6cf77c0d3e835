//! Faults the tests inject by editing the world: disks that hold data,
//! a split brain. (Crashes, hangs and power loss after the n-th change are
//! `Faults` on a node, applied by `SimHost`.)

use super::*;

impl World {
    /// DRBD metadata with a data generation history on a node's backing LV
    /// (a disk that was in use).
    pub fn inject_metadata_with_history(&mut self, short: &str) {
        let u = self.next_uuid();
        let n = self.node_mut(short);
        n.add_backing_lv();
        n.drbd.md = Some(Md::with_history(u));
        n.data.pv = true;
    }

    /// A PV label at the start of the backing LV (so on /dev/drbd0), with
    /// brand-new DRBD metadata (e.g. metadata recreated on a used disk).
    pub fn inject_pv_signature(&mut self, short: &str, probe_blind: bool) {
        let n = self.node_mut(short);
        n.add_backing_lv();
        n.drbd.md = Some(Md::brand_new());
        n.data.pv = true;
        n.faults.probe_blind = probe_blind;
    }

    /// A GFS2 file system directly on the backing device.
    pub fn inject_raw_gfs2(&mut self, short: &str) {
        let n = self.node_mut(short);
        n.add_backing_lv();
        n.data.raw = Some("gfs2".into());
    }

    /// Both nodes set up as `cfg` says (the clustered VG with its LVs, GFS2
    /// on those that carry it, mounted), then split: StandAlone, both
    /// Primary, each wrote `<mountpoint>/written-on-<short>` on the first
    /// GFS2 volume, which the other lacks.
    pub fn inject_split_brain(&mut self, cfg: &FirstbootConfig) {
        let base = self.next_uuid();
        let shorts: Vec<String> = self.nodes.keys().cloned().collect();
        let first_gfs2 = cfg.clvm.volumes.iter().position(|v| v.gfs2.is_some());
        for s in &shorts {
            let cur = self.next_uuid();
            let n = self.node_mut(s);
            n.add_backing_lv();
            n.drbd = DrbdNode {
                loaded: true,
                attached: true,
                net: "StandAlone".into(),
                role: "Primary".into(),
                disk: "UpToDate".into(),
                md: Some(Md {
                    uuids: vec![
                        format!("{cur:016X}"),
                        format!("{base:016X}"),
                        format!("{:016X}", base ^ 1),
                        format!("{:016X}", 0),
                    ],
                    flags: vec![1, 1, 1, 0, 0, 0, 0],
                }),
                discard: false,
            };
            for svc in ["cman", "clvmd"] {
                n.running.insert(svc.into(), true);
            }
            for svc in ["cman", "clusterkick-drbd", "clvmd", "gfs2"] {
                n.subsys.insert(svc.into());
            }
            let vg = n.cluster_vg.clone();
            let mut lvs = Vec::new();
            for (i, vol) in cfg.clvm.volumes.iter().enumerate() {
                let mut files = BTreeMap::new();
                if let Some(g) = &vol.gfs2 {
                    if Some(i) == first_gfs2 {
                        files.insert(format!("{}/written-on-{s}", g.mountpoint), format!("{s}\n"));
                    }
                    n.dirs.insert(g.mountpoint.clone());
                    n.mounts.push(ModelMount {
                        device: format!("/dev/{vg}/{}", vol.name),
                        dir: g.mountpoint.clone(),
                        lv: format!("{vg}/{}", vol.name),
                    });
                    if let Some(f) = n.files.get_mut("/etc/fstab") {
                        f.push_str(&format!(
                            "/dev/{vg}/{}\t{}\tgfs2\tdefaults,noatime\t0 0\n",
                            vol.name, g.mountpoint
                        ));
                    }
                }
                n.active.insert(format!("{vg}/{}", vol.name));
                lvs.push(ClLv {
                    name: vol.name.clone(),
                    size: vol.size.clone(),
                    gfs2: vol.gfs2.as_ref().map(|g| Gfs2Sb {
                        proto: "lock_dlm".into(),
                        table: g.lock_table.clone(),
                        journals: g.journals,
                    }),
                    files,
                });
            }
            n.data = DrbdData {
                pv: true,
                raw: None,
                vg: Some(ClVg {
                    name: vg,
                    clustered: true,
                    lvs,
                }),
            };
        }
        self.events
            .push("Split-Brain detected, dropping connection!".into());
    }
}
