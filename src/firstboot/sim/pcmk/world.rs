//! The simulated pacemaker-family pair: both nodes' state and the cluster's
//! shared state (the loaded CIB, the resync), kept in one TOML file under a
//! lock so that the two helper processes see one world.

use super::*;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct World {
    pub cluster: String,
    /// "8.4" or "9": what the DRBD tools print.
    pub generation: String,
    /// Global sequence number of log entries (orders commands across nodes).
    pub seq: u64,
    pub uuid_counter: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncJob>,
    /// The CIB's configuration section once loaded (what cibadmin was
    /// given, with the target-role nvpairs crm_resource deleted cut out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cib: Option<String>,
    /// The node crm-fence-peer's constraint
    /// (`drbd-fence-by-handler-<res>-<clone>`) allows as the only Promoted
    /// one, placed when its peer was cut off and fenced; lifted when a
    /// resync onto the peer is over (DRBD 8.4: after-resync-target on the
    /// target; DRBD 9: unfence-peer on the fencing node), each only where
    /// pacemaker runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fence_constraint: Option<String>,
    /// Events (reboots, split brain, ...).
    #[serde(default)]
    pub events: Vec<String>,
    /// Nodes by short name.
    pub nodes: BTreeMap<String, NodeWorld>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SyncJob {
    pub source: String,
    pub target: String,
    /// Per mille done; each status read advances it by 100.
    pub permille: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NodeWorld {
    pub name: String,
    pub id: u32,
    pub resource: String,
    pub minor: u32,
    pub backing_vg: String,
    pub backing_lv: String,
    /// Number of change commands run so far (for crash injection).
    pub changes: u64,
    /// systemd units running.
    #[serde(default)]
    pub running: BTreeSet<String>,
    /// systemd units enabled at boot.
    #[serde(default)]
    pub enabled: BTreeSet<String>,
    /// corosync has seen both nodes since this node booted (two_node's
    /// wait_for_all is satisfied).
    #[serde(default)]
    pub seen_both: bool,
    pub drbd: DrbdNode,
    /// What this node's copy of the DRBD device holds.
    pub data: DrbdData,
    pub faults: Faults,
    #[serde(default)]
    pub local_lvs: Vec<LocalLv>,
    /// Pacemaker's resources running here, by primitive id, with the role
    /// ("Started", "Promoted") or "Failed".
    #[serde(default)]
    pub resources: BTreeMap<String, String>,
    /// The shared VG's lockspace is started here.
    #[serde(default)]
    pub lockspace: bool,
    /// Shared LVs active here, as "vg/lv".
    #[serde(default)]
    pub active: BTreeSet<String>,
    #[serde(default)]
    pub mounts: Vec<ModelMount>,
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    #[serde(default)]
    pub log: Vec<LogEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LocalLv {
    pub name: String,
    pub size_m: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelMount {
    pub device: String,
    pub dir: String,
    /// "vg/lv".
    pub lv: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct DrbdNode {
    pub up: bool,
    /// Brought up by pacemaker's agent (it takes it down again).
    #[serde(default)]
    pub by_pacemaker: bool,
    /// "StandAlone", "Connecting" or "Connected".
    pub net: String,
    /// "Primary" or "Secondary".
    pub role: String,
    /// "Inconsistent", "UpToDate", "Diskless".
    pub disk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md: Option<Md>,
}

/// DRBD metadata: current, bitmap, two history UUIDs; consistent and
/// up-to-date flags.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Md {
    pub uuids: [u64; 4],
    pub uptodate: bool,
}

impl Md {
    pub fn brand_new() -> Self {
        Md {
            uuids: [4, 0, 0, 0],
            uptodate: false,
        }
    }

    pub fn is_brand_new(&self) -> bool {
        self.uuids == [4, 0, 0, 0]
    }

    pub fn with_history(current: u64) -> Self {
        Md {
            uuids: [current, 0, current ^ 0x0101_0101, current ^ 0x0202_0202],
            uptodate: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct DrbdData {
    /// An LVM2 PV label at the start of the device.
    pub pv: bool,
    /// A signature directly on the device (no LVM): "gfs2", "ext4".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vg: Option<SharedVg>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SharedVg {
    pub name: String,
    /// "dlm" for a shared VG, "" for a plain one.
    pub lock_type: String,
    #[serde(default)]
    pub lvs: Vec<SharedLv>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SharedLv {
    pub name: String,
    pub size: String,
    /// The GFS2 lock table, when the LV holds GFS2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gfs2: Option<String>,
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Faults {
    /// Exit (as a crash) right after the n-th change command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash_after_change: Option<u64>,
    /// Hang forever right after the n-th change command (to be killed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hang_after_change: Option<u64>,
    /// Power loss right after the n-th change: units stop, DRBD goes down,
    /// mounts vanish; enabled units come back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reboot_after_change: Option<u64>,
    /// wipefs does not report the PV label on the backing device (a
    /// signature only LVM finds), so the later `pvs` guard is exercised.
    #[serde(default)]
    pub wipefs_blind: bool,
    /// LVs that come back from lvcreate with an old GFS2 superblock.
    #[serde(default)]
    pub stale_gfs2_on_lvcreate: Vec<String>,
    /// The next n `drbdadm up` / `adjust` calls by hand attach but their
    /// `drbdsetup connect` does not end within drbdadm's 5 s (a slow
    /// host): exit 20, the resource attached and StandAlone, and drbdadm's
    /// message echoing the connect line with its shared secret.
    #[serde(default)]
    pub slow_drbd_connect: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogEntry {
    pub seq: u64,
    /// "query" or "change".
    pub kind: String,
    pub line: String,
}

impl World {
    /// A fresh pair as the installer leaves it: the node VG without the
    /// backing LV, nothing running, the helper enabled at boot, the CIB
    /// file the build wrote at `cib_file` (its text is `cib_text`).
    pub fn new_pair(a: &FirstbootConfig, b: &FirstbootConfig, cib_text: &str) -> World {
        let mut nodes = BTreeMap::new();
        for cfg in [a, b] {
            let mut files = BTreeMap::new();
            if let Some(p) = &cfg.pacemaker {
                files.insert(p.cib_file.display().to_string(), cib_text.to_string());
            }
            nodes.insert(
                cfg.node.short.clone(),
                NodeWorld {
                    name: cfg.node.name.clone(),
                    id: cfg.node.id,
                    resource: cfg.drbd.resource.clone(),
                    minor: cfg.drbd.minor().unwrap_or(0),
                    backing_vg: cfg.drbd.backing_vg.clone(),
                    backing_lv: cfg.drbd.backing_lv.clone(),
                    changes: 0,
                    running: BTreeSet::new(),
                    enabled: ["clusterkick-firstboot.service".to_string()].into(),
                    seen_both: false,
                    drbd: DrbdNode {
                        net: "StandAlone".into(),
                        role: "Secondary".into(),
                        disk: "Diskless".into(),
                        ..Default::default()
                    },
                    data: DrbdData::default(),
                    faults: Faults::default(),
                    local_lvs: vec![
                        LocalLv {
                            name: "lv_swap".into(),
                            size_m: 2048,
                        },
                        LocalLv {
                            name: "lv_root".into(),
                            size_m: 20000,
                        },
                    ],
                    resources: BTreeMap::new(),
                    lockspace: false,
                    active: BTreeSet::new(),
                    mounts: Vec::new(),
                    files,
                    log: Vec::new(),
                },
            );
        }
        let generation = match a.pacemaker.as_ref().map(|p| p.drbd_generation) {
            Some(DrbdGeneration::V9) => "9",
            _ => "8.4",
        };
        World {
            cluster: a.cluster.clone(),
            generation: generation.into(),
            seq: 0,
            uuid_counter: 0,
            sync: None,
            cib: None,
            fence_constraint: None,
            events: Vec::new(),
            nodes,
        }
    }

    pub fn load(dir: &Path) -> io::Result<World> {
        let text = std::fs::read_to_string(dir.join(WORLD_FILE))?;
        let w: World = toml::from_str(&text)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        if w.nodes.len() != 2 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} nodes, want 2", w.nodes.len()),
            ));
        }
        Ok(w)
    }

    /// Temp file and rename, without fsync (the test machine's power is
    /// not what is tested).
    pub(super) fn store(&self, dir: &Path) -> io::Result<()> {
        let text = toml::to_string(self).map_err(|e| io::Error::other(e.to_string()))?;
        let tmp = dir.join(format!(".{WORLD_FILE}.{}", std::process::id()));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, dir.join(WORLD_FILE))
    }

    /// Writes the world (under the lock).
    pub fn save(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let _lock = lock(dir)?;
        self.store(dir)
    }

    /// Loads, changes and stores the world under the lock.
    pub fn update<R>(dir: &Path, f: impl FnOnce(&mut World) -> R) -> io::Result<R> {
        let _lock = lock(dir)?;
        let mut w = World::load(dir)?;
        let r = f(&mut w);
        w.store(dir)?;
        Ok(r)
    }

    /// A node by short name. Panics on a name the world does not have:
    /// [`SimHost::open`] checks the name, and [`World::load`] that there
    /// are exactly two nodes.
    pub fn node(&self, short: &str) -> &NodeWorld {
        &self.nodes[short]
    }

    /// See [`World::node`].
    pub fn node_mut(&mut self, short: &str) -> &mut NodeWorld {
        match self.nodes.get_mut(short) {
            Some(n) => n,
            None => panic!("model world has no node {short}"),
        }
    }

    pub fn peer_of(&self, me: &str) -> String {
        self.nodes
            .keys()
            .find(|k| k.as_str() != me)
            .cloned()
            .unwrap_or_default()
    }

    /// A node's command lines of the given kind ("query", "change", or ""
    /// for all).
    pub fn commands(&self, short: &str, kind: &str) -> Vec<String> {
        self.node(short)
            .log
            .iter()
            .filter(|e| kind.is_empty() || e.kind == kind)
            .map(|e| e.line.clone())
            .collect()
    }

    pub(super) fn next_uuid(&mut self) -> u64 {
        self.uuid_counter += 1;
        // Below 2^63: TOML integers are signed.
        0x1A3C_5D21_0000_0000u64 | (self.uuid_counter.wrapping_mul(0x9E37_79B9) & 0xFFFF_FFFE)
    }

    /// `me` goes dark: DRBD, processes, pacemaker's resources, the
    /// lockspace, active LVs and mounts are gone.
    pub(super) fn power_off(&mut self, me: &str) {
        self.drbd_down(me);
        let n = self.node_mut(me);
        n.running.clear();
        n.seen_both = false;
        n.resources.clear();
        n.lockspace = false;
        n.active.clear();
        n.mounts.clear();
    }

    /// Power loss on `me`: processes, DRBD, mounts, lockspace are gone; at
    /// boot the enabled units start again.
    pub fn reboot(&mut self, me: &str) {
        self.power_off(me);
        let n = self.node_mut(me);
        let enabled: Vec<String> = n.enabled.iter().cloned().collect();
        for u in enabled {
            if u != "clusterkick-firstboot.service" {
                let _ = self.unit_start(me, &u);
            }
        }
        self.events.push(format!("{me} rebooted"));
    }
}

pub(super) fn lock(dir: &Path) -> io::Result<File> {
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))?;
    f.lock()?;
    Ok(f)
}

impl NodeWorld {
    pub(super) fn backing_path(&self) -> String {
        format!("/dev/{}/{}", self.backing_vg, self.backing_lv)
    }

    pub(super) fn has_backing(&self) -> bool {
        self.local_lvs.iter().any(|l| l.name == self.backing_lv)
    }

    pub(super) fn add_backing_lv(&mut self) {
        if !self.has_backing() {
            self.local_lvs.push(LocalLv {
                name: self.backing_lv.clone(),
                size_m: 409_600,
            });
        }
    }

    pub(super) fn device(&self) -> String {
        format!("/dev/drbd{}", self.minor)
    }

    pub(super) fn is_running(&self, unit: &str) -> bool {
        self.running.contains(unit)
    }

    /// In the cluster: corosync and pacemaker run.
    pub(super) fn in_cluster(&self) -> bool {
        self.is_running("corosync.service") && self.is_running("pacemaker.service")
    }

    /// /dev/drbdN can be opened (8.4 and 9 refuse a Secondary).
    pub(super) fn drbd_readable(&self) -> bool {
        self.drbd.up && self.drbd.role == "Primary"
    }

    pub(super) fn mount_for(&self, path: &str) -> Option<&ModelMount> {
        self.mounts.iter().find(|m| {
            path.strip_prefix(&m.dir)
                .is_some_and(|rest| rest.starts_with('/'))
        })
    }
}
