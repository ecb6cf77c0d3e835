//! The simulated pair: both nodes' state, kept in one TOML file under a
//! lock so that the two helper processes see one world.

use super::*;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct World {
    pub cluster: String,
    /// Global sequence number of log entries (orders commands across nodes).
    pub seq: u64,
    pub uuid_counter: u64,
    /// How much faster than the wall clock the simulated time runs: the
    /// helpers' clocks (read when they start) and fenced's timers. 1: real
    /// time.
    #[serde(default = "one")]
    pub time_scale: u64,
    /// Every fence, in order.
    #[serde(default)]
    pub fences: Vec<FenceEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncJob>,
    /// Kernel-log style events (split brain, ...).
    #[serde(default)]
    pub events: Vec<String>,
    /// Nodes by short name.
    pub nodes: BTreeMap<String, NodeWorld>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SyncJob {
    pub source: String,
    pub target: String,
    pub total_kib: u64,
    pub left_kib: u64,
    /// How much each read of /proc/drbd (on either node) advances it.
    pub step_kib: u64,
}

fn one() -> u64 {
    1
}

fn yes() -> bool {
    true
}

fn sixty() -> u64 {
    60
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NodeWorld {
    pub name: String,
    pub id: u32,
    /// Back-channel address shown by cman_tool.
    pub address: String,
    /// "8.3.2" (5 flag characters) or "8.3.12" (6).
    pub drbd_version: String,
    pub resource: String,
    pub minor: u32,
    pub backing_vg: String,
    pub backing_lv: String,
    /// The clustered VG name this node's helper uses (for `lvs <vg>`).
    pub cluster_vg: String,
    /// Number of change commands run so far (for crash injection).
    pub changes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cman_started_ms: Option<u64>,
    /// The node has power (a fence or a power loss takes it; every process
    /// of a node without power stops).
    #[serde(default = "yes")]
    pub powered: bool,
    /// cluster.conf's post_join_delay: how long fenced waits for the peer
    /// after this node starts cman alone before it fences it.
    #[serde(default = "sixty")]
    pub post_join_delay_secs: u64,
    /// Since when (wall-clock ms) fenced waits for the peer to join before
    /// fencing it (cman started while the peer was not a member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fenced_watch_ms: Option<u64>,
    pub drbd: DrbdNode,
    /// What this node's DRBD backing device holds (its copy of /dev/drbd0).
    pub data: DrbdData,
    pub faults: Faults,
    #[serde(default)]
    pub local_lvs: Vec<LocalLv>,
    /// Services running (cman, clvmd).
    #[serde(default)]
    pub running: BTreeMap<String, bool>,
    /// The rc links, by runlevel ("0".."6"): `S21cman`, `K79cman`, ...
    #[serde(default)]
    pub rc: BTreeMap<String, BTreeSet<String>>,
    /// /var/lock/subsys: the services started through their init script
    /// since boot (rc stops exactly these at shutdown).
    #[serde(default)]
    pub subsys: BTreeSet<String>,
    /// Clustered LVs active on this node, as "vg/lv".
    #[serde(default)]
    pub active: BTreeSet<String>,
    #[serde(default)]
    pub mounts: Vec<ModelMount>,
    #[serde(default)]
    pub dirs: BTreeSet<String>,
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
    pub loaded: bool,
    pub attached: bool,
    /// "StandAlone", "WFConnection" or "Connected".
    pub net: String,
    /// "Primary" or "Secondary".
    pub role: String,
    /// "Inconsistent", "UpToDate", "Outdated", "Diskless".
    pub disk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md: Option<Md>,
    #[serde(default)]
    pub discard: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Md {
    /// Current, bitmap, history 1, history 2: `%016X` strings.
    pub uuids: Vec<String>,
    pub flags: Vec<u8>,
}

impl Md {
    pub fn brand_new() -> Self {
        Md {
            uuids: vec![
                format!("{UUID_JUST_CREATED:016X}"),
                format!("{:016X}", 0),
                format!("{:016X}", 0),
                format!("{:016X}", 0),
            ],
            flags: vec![0; 7],
        }
    }

    pub fn is_brand_new(&self) -> bool {
        self.uuids.first().map(String::as_str) == Some("0000000000000004")
            && self
                .uuids
                .iter()
                .skip(1)
                .all(|u| u.chars().all(|c| c == '0'))
    }

    /// Metadata with a data generation history, as a used disk has.
    pub fn with_history(current: u64) -> Self {
        Md {
            uuids: vec![
                format!("{current:016X}"),
                format!("{:016X}", 0),
                format!("{:016X}", current ^ 0x0101_0101),
                format!("{:016X}", current ^ 0x0202_0202),
            ],
            flags: vec![1, 1, 1, 1, 0, 0, 0],
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct DrbdData {
    /// An LVM2 PV label on /dev/drbd0.
    pub pv: bool,
    /// A signature directly on /dev/drbd0 (no LVM): "gfs2", "ext3".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vg: Option<ClVg>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClVg {
    pub name: String,
    pub clustered: bool,
    #[serde(default)]
    pub lvs: Vec<ClLv>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClLv {
    pub name: String,
    pub size: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gfs2: Option<Gfs2Sb>,
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Gfs2Sb {
    pub proto: String,
    pub table: String,
    pub journals: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Faults {
    /// Exit (as a crash) right after the n-th change command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash_after_change: Option<u64>,
    /// Hang forever right after the n-th change command (to be killed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hang_after_change: Option<u64>,
    /// Power loss right after the n-th change: services stop, DRBD goes
    /// down, mounts vanish; what chkconfig enables comes back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reboot_after_change: Option<u64>,
    /// The raw probe of the backing device does not see the PV label (a
    /// signature only LVM finds), so the later `pvs` guard is exercised.
    #[serde(default)]
    pub probe_blind: bool,
    /// LVs that come back from lvcreate with an old GFS2 superblock (lvcreate
    /// zeroes only the first 4 KiB; GFS2's superblock is at 64 KiB).
    #[serde(default)]
    pub stale_gfs2_on_lvcreate: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogEntry {
    pub seq: u64,
    /// "query" or "change".
    pub kind: String,
    pub line: String,
}

const DEFAULT_FSTAB: &str =
    "/dev/VG/lv01            /                       ext3    defaults        1 1
LABEL=/boot             /boot                   ext3    defaults        1 2
tmpfs                   /dev/shm                tmpfs   defaults        0 0
devpts                  /dev/pts                devpts  gid=5,mode=620  0 0
sysfs                   /sys                    sysfs   defaults        0 0
proc                    /proc                   proc    defaults        0 0
/dev/VG/lv00            swap                    swap    defaults        0 0
";

impl NodeWorld {
    /// A node as the kickstart leaves it: local VG with lv00/lv01, no
    /// backing LV, nothing running, the helper enabled at boot.
    pub fn fresh(cfg: &FirstbootConfig) -> NodeWorld {
        let mut files = BTreeMap::new();
        files.insert(
            "/etc/fstab".to_string(),
            DEFAULT_FSTAB.replace("VG", &cfg.drbd.backing_vg),
        );
        let dirs = ["/", "/etc", "/var", "/tmp", "/mnt"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut node = NodeWorld {
            name: cfg.node.name.clone(),
            id: cfg.node.id,
            address: cfg
                .listen
                .rsplit_once(':')
                .map(|x| x.0.to_string())
                .unwrap_or_default(),
            drbd_version: "8.3.2".into(),
            resource: cfg.drbd.resource.clone(),
            minor: cfg.drbd.minor().unwrap_or(0),
            backing_vg: cfg.drbd.backing_vg.clone(),
            backing_lv: cfg.drbd.backing_lv.clone(),
            cluster_vg: cfg.clvm.vg.clone(),
            changes: 0,
            cman_started_ms: None,
            powered: true,
            post_join_delay_secs: cfg.post_join_delay_secs,
            fenced_watch_ms: None,
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
                    name: "lv00".into(),
                    size_m: 2048,
                },
                LocalLv {
                    name: "lv01".into(),
                    size_m: 20000,
                },
            ],
            running: BTreeMap::new(),
            rc: BTreeMap::new(),
            subsys: BTreeSet::new(),
            active: BTreeSet::new(),
            mounts: Vec::new(),
            dirs,
            files,
            log: Vec::new(),
        };
        World::install_rc(&mut node);
        node
    }
}

impl World {
    /// New hardware in place of a dead node: `cfg`'s node comes back as the
    /// kickstart leaves it (new, empty disks; its old DRBD metadata, data
    /// and files are gone with the old machine), powered and booted. Its
    /// peer, the survivor, keeps everything.
    pub fn replace_node(&mut self, cfg: &FirstbootConfig) {
        let me = cfg.node.short.clone();
        self.power_off(&me);
        self.nodes.insert(me.clone(), NodeWorld::fresh(cfg));
        self.boot_services(&me);
        self.events.push(format!("{me} replaced by new hardware"));
    }
}

impl World {
    /// A fresh pair as the kickstart leaves it: local VG with lv00/lv01, no
    /// backing LV, nothing running, the helper enabled at boot.
    pub fn new_pair(a: &FirstbootConfig, b: &FirstbootConfig) -> World {
        let mut nodes = BTreeMap::new();
        for cfg in [a, b] {
            nodes.insert(cfg.node.short.clone(), NodeWorld::fresh(cfg));
        }
        World {
            cluster: a.cluster.clone(),
            seq: 0,
            uuid_counter: 0,
            time_scale: 1,
            fences: Vec::new(),
            sync: None,
            events: Vec::new(),
            nodes,
        }
    }

    pub fn load(dir: &Path) -> io::Result<World> {
        let text = std::fs::read_to_string(dir.join(WORLD_FILE))?;
        let w: World = toml::from_str(&text)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        w.check()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(w)
    }

    /// The invariants the model's code relies on: two nodes, metadata with
    /// 4 UUIDs and 7 flags.
    pub(super) fn check(&self) -> Result<(), String> {
        if self.nodes.len() != 2 {
            return Err(format!("{} nodes, want 2", self.nodes.len()));
        }
        for (name, n) in &self.nodes {
            if let Some(md) = &n.drbd.md {
                if md.uuids.len() != 4 || md.flags.len() != 7 {
                    return Err(format!("{name}: metadata needs 4 UUIDs and 7 flags"));
                }
            }
        }
        Ok(())
    }

    /// Temp file and rename, without fsync: the model's world need not
    /// survive a power loss of the test machine, and the tests write it for
    /// every command.
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
    /// are exactly two nodes, so the model never asks for another one.
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

    /// The other node's short name.
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
        0x8A3C_5D21_0000_0000u64 | (self.uuid_counter.wrapping_mul(0x9E37_79B9) & 0xFFFF_FFFE)
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
    pub(super) fn add_backing_lv(&mut self) {
        if !self.local_lvs.iter().any(|l| l.name == self.backing_lv) {
            self.local_lvs.push(LocalLv {
                name: self.backing_lv.clone(),
                size_m: 409_600,
            });
        }
    }

    pub(super) fn backing_path(&self) -> String {
        format!("/dev/{}/{}", self.backing_vg, self.backing_lv)
    }

    pub(super) fn has_backing(&self) -> bool {
        self.local_lvs.iter().any(|l| l.name == self.backing_lv)
    }

    pub(super) fn backing_kib(&self) -> u64 {
        self.local_lvs
            .iter()
            .find(|l| l.name == self.backing_lv)
            .map(|l| l.size_m * 1024)
            .unwrap_or(0)
    }

    pub fn is_running(&self, svc: &str) -> bool {
        self.running.get(svc).copied().unwrap_or(false)
    }

    pub(super) fn device(&self) -> String {
        format!("/dev/drbd{}", self.minor)
    }

    /// /dev/drbd0 can be opened (DRBD 8.3 refuses opens on a Secondary).
    pub(super) fn drbd_readable(&self) -> bool {
        self.drbd.attached && self.drbd.role == "Primary"
    }

    pub(super) fn clustered_vg_visible(&self) -> bool {
        self.drbd_readable() && self.data.vg.is_some()
    }

    pub(super) fn drbdmeta(&self, cmd: &str) -> String {
        format!(
            "drbdmeta {} v08 {} internal {cmd}",
            self.minor,
            self.backing_path()
        )
    }

    /// The live get-gi flags.
    pub(super) fn live_flags(&self) -> Vec<u8> {
        let d = &self.drbd;
        vec![
            u8::from(d.disk == "UpToDate" || d.disk == "Consistent"),
            u8::from(d.disk == "UpToDate"),
            u8::from(d.role == "Primary"),
            u8::from(d.net == "Connected"),
            0,
            0,
            0,
        ]
    }

    pub(super) fn mount_for(&self, path: &str) -> Option<&ModelMount> {
        self.mounts.iter().find(|m| {
            path.strip_prefix(&m.dir)
                .is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

impl World {
    /// Power loss on `me`, and the boot that follows: processes and mounts
    /// are gone, DRBD is down; rc starts what is on in runlevel 3 (after
    /// the %post: xend, and the helper, which the tests start themselves).
    pub fn reboot(&mut self, me: &str) {
        self.reboot_without_boot(me);
        self.boot_services(me);
        self.events.push(format!("{me} rebooted"));
    }

    /// Power loss: everything running on `me` stops.
    pub(super) fn reboot_without_boot(&mut self, me: &str) {
        let peer = self.peer_of(me);
        if self.node(me).drbd.net == "Connected" {
            self.node_mut(&peer).drbd.net = "WFConnection".into();
        }
        let n = self.node_mut(me);
        if n.drbd.attached {
            let flags = n.live_flags();
            if let Some(md) = n.drbd.md.as_mut() {
                md.flags = flags;
            }
        }
        n.drbd.loaded = false;
        n.drbd.attached = false;
        n.drbd.net = "StandAlone".into();
        n.drbd.role = "Secondary".into();
        n.drbd.disk = "Diskless".into();
        n.running.clear();
        n.subsys.clear();
        n.mounts.clear();
        n.active.clear();
        n.cman_started_ms = None;
        n.fenced_watch_ms = None;
    }
}
