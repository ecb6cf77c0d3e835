//! The simulator (test-only, cargo feature `sim`): both nodes of a pair
//! for the tests to run the real helper engine against. DRBD (metadata, UUIDs, connection,
//! roles, disk states, resync), LVM (local VG, the clustered VG on
//! /dev/drbd0, activation per node), GFS2 superblocks and files, cman
//! membership, services and chkconfig, /etc/fstab and mounts.
//!
//! Commands are answered with the text and exit codes the EL5 tools print
//! (`shared/reference/el5-tool-outputs.md`), so the real parsers run on it.
//! The world lives in one TOML file shared by the two helper processes,
//! guarded by an advisory lock; every command a node runs is appended to
//! that node's log in the world, marked `query` or `change`. Faults are
//! injected by editing the world: existing metadata, a PV signature, a GFS2
//! file system, a split brain, a crash or a hang after the n-th change.

use crate::firstboot::error::{Error, Result};
use crate::firstboot::host::{Argv, CmdResult, Host};
use crate::firstboot::platform::el5::parse::drbdmeta::UUID_JUST_CREATED;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::firstboot::config::FirstbootConfig;

/// The folder of the simulated world `clusterkick-firstboot-sim` acts on.
/// Read only by that test binary: the helper that ships has no simulator.
pub const WORLD_ENV: &str = "CLUSTERKICK_FIRSTBOOT_SIM";

/// Exit code of a simulated crash (the `crash_after_change`,
/// `reboot_after_change` faults) or of a world that cannot be read.
pub const CRASH_EXIT: i32 = 99;

/// The [`crate::firstboot::OpenHost`] of `clusterkick-firstboot-sim`: this
/// node of the world in [`WORLD_ENV`] (which must be set).
pub fn open(cfg: &FirstbootConfig) -> Result<Box<dyn Host>> {
    let dir = match std::env::var_os(WORLD_ENV) {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => {
            return Err(Error::Unexpected(format!(
                "{WORLD_ENV} is not set: clusterkick-firstboot-sim acts only on a simulated world"
            )))
        }
    };
    let node = SimHost::open(&dir, &cfg.node.short)
        .map_err(|e| Error::io(format!("opening simulated world {}", dir.display()), e))?;
    Ok(Box::new(node))
}

pub const WORLD_FILE: &str = "world.toml";
pub const LOCK_FILE: &str = "world.lock";

/// The sync speed the model reports (the seed's `rate 33M`), K/sec.
const SYNC_KPS: u64 = 33_792;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct World {
    pub cluster: String,
    /// Global sequence number of log entries (orders commands across nodes).
    pub seq: u64,
    pub uuid_counter: u64,
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
    pub drbd: DrbdNode,
    /// What this node's DRBD backing device holds (its copy of /dev/drbd0).
    pub data: DrbdData,
    pub faults: Faults,
    #[serde(default)]
    pub local_lvs: Vec<LocalLv>,
    /// Services running (cman, clvmd).
    #[serde(default)]
    pub running: BTreeMap<String, bool>,
    #[serde(default)]
    pub chkconfig: BTreeMap<String, bool>,
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

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn res(code: i32, stdout: impl Into<String>, stderr: impl Into<String>) -> CmdResult {
    CmdResult {
        code,
        stdout: stdout.into(),
        stderr: stderr.into(),
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `400G` -> MiB (lvcreate -L units, default M).
pub fn size_to_m(size: &str) -> Option<u64> {
    let (num, unit) = match size.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&size[..i], &size[i..]),
        None => (size, "m"),
    };
    let n: f64 = num.parse().ok()?;
    let mult = match unit.to_ascii_lowercase().as_str() {
        "k" => 1.0 / 1024.0,
        "m" => 1.0,
        "g" => 1024.0,
        "t" => 1024.0 * 1024.0,
        _ => return None,
    };
    (n > 0.0).then_some((n * mult) as u64)
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

impl World {
    /// A fresh pair as the kickstart leaves it: local VG with lv00/lv01, no
    /// backing LV, nothing running, the helper enabled at boot.
    pub fn new_pair(a: &FirstbootConfig, b: &FirstbootConfig) -> World {
        let mut nodes = BTreeMap::new();
        for cfg in [a, b] {
            let mut chk = BTreeMap::new();
            for s in ["cman", "clvmd", "drbd", "gfs2"] {
                chk.insert(s.to_string(), false);
            }
            chk.insert("xend".into(), true);
            chk.insert("clusterkick-firstboot".into(), true);
            let mut files = BTreeMap::new();
            files.insert(
                "/etc/fstab".to_string(),
                DEFAULT_FSTAB.replace("VG", &cfg.drbd.backing_vg),
            );
            let dirs = ["/", "/etc", "/var", "/tmp", "/mnt"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            nodes.insert(
                cfg.node.short.clone(),
                NodeWorld {
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
                    chkconfig: chk,
                    active: BTreeSet::new(),
                    mounts: Vec::new(),
                    dirs,
                    files,
                    log: Vec::new(),
                },
            );
        }
        World {
            cluster: a.cluster.clone(),
            seq: 0,
            uuid_counter: 0,
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
    fn check(&self) -> Result<(), String> {
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
    fn store(&self, dir: &Path) -> io::Result<()> {
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

    fn next_uuid(&mut self) -> u64 {
        self.uuid_counter += 1;
        0x8A3C_5D21_0000_0000u64 | (self.uuid_counter.wrapping_mul(0x9E37_79B9) & 0xFFFF_FFFE)
    }

    // ------------------------------------------------------------ faults

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

    /// Both nodes set up (clustered VG with iso_store on GFS2, mounted on
    /// /xen_shared, and vm01), then split: StandAlone, both Primary, each
    /// wrote `/xen_shared/written-on-<short>` that the other lacks.
    pub fn inject_split_brain(&mut self) {
        let base = self.next_uuid();
        let cluster = self.cluster.clone();
        let shorts: Vec<String> = self.nodes.keys().cloned().collect();
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
            for svc in ["cman", "clvmd", "drbd", "gfs2"] {
                n.chkconfig.insert(svc.into(), true);
            }
            n.chkconfig.insert("clusterkick-firstboot".into(), false);
            let vg = n.cluster_vg.clone();
            let mut files = BTreeMap::new();
            files.insert(format!("/xen_shared/written-on-{s}"), format!("{s}\n"));
            n.data = DrbdData {
                pv: true,
                raw: None,
                vg: Some(ClVg {
                    name: vg.clone(),
                    clustered: true,
                    lvs: vec![
                        ClLv {
                            name: "iso_store".into(),
                            size: "20G".into(),
                            gfs2: Some(Gfs2Sb {
                                proto: "lock_dlm".into(),
                                table: format!("{cluster}:iso_store"),
                                journals: 2,
                            }),
                            files,
                        },
                        ClLv {
                            name: "vm01".into(),
                            size: "20G".into(),
                            gfs2: None,
                            files: BTreeMap::new(),
                        },
                    ],
                }),
            };
            n.active.insert(format!("{vg}/iso_store"));
            n.active.insert(format!("{vg}/vm01"));
            n.dirs.insert("/xen_shared".into());
            n.mounts.push(ModelMount {
                device: format!("/dev/{vg}/iso_store"),
                dir: "/xen_shared".into(),
                lv: format!("{vg}/iso_store"),
            });
            if let Some(f) = n.files.get_mut("/etc/fstab") {
                f.push_str(&format!(
                    "/dev/{vg}/iso_store\t/xen_shared\tgfs2\tdefaults,noatime\t0 0\n"
                ));
            }
        }
        self.events
            .push("Split-Brain detected, dropping connection!".into());
    }
}

fn lock(dir: &Path) -> io::Result<File> {
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))?;
    f.lock()?;
    Ok(f)
}

impl NodeWorld {
    fn add_backing_lv(&mut self) {
        if !self.local_lvs.iter().any(|l| l.name == self.backing_lv) {
            self.local_lvs.push(LocalLv {
                name: self.backing_lv.clone(),
                size_m: 409_600,
            });
        }
    }

    fn backing_path(&self) -> String {
        format!("/dev/{}/{}", self.backing_vg, self.backing_lv)
    }

    fn has_backing(&self) -> bool {
        self.local_lvs.iter().any(|l| l.name == self.backing_lv)
    }

    fn backing_kib(&self) -> u64 {
        self.local_lvs
            .iter()
            .find(|l| l.name == self.backing_lv)
            .map(|l| l.size_m * 1024)
            .unwrap_or(0)
    }

    fn is_running(&self, svc: &str) -> bool {
        self.running.get(svc).copied().unwrap_or(false)
    }

    fn device(&self) -> String {
        format!("/dev/drbd{}", self.minor)
    }

    /// /dev/drbd0 can be opened (DRBD 8.3 refuses opens on a Secondary).
    fn drbd_readable(&self) -> bool {
        self.drbd.attached && self.drbd.role == "Primary"
    }

    fn clustered_vg_visible(&self) -> bool {
        self.drbd_readable() && self.data.vg.is_some()
    }

    fn drbdmeta(&self, cmd: &str) -> String {
        format!(
            "drbdmeta {} v08 {} internal {cmd}",
            self.minor,
            self.backing_path()
        )
    }

    /// The live get-gi flags.
    fn live_flags(&self) -> Vec<u8> {
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

    fn mount_for(&self, path: &str) -> Option<&ModelMount> {
        self.mounts.iter().find(|m| {
            path.strip_prefix(&m.dir)
                .is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

/// A [`Node`] answering from the world in a directory.
pub struct SimHost {
    dir: PathBuf,
    me: String,
}

impl SimHost {
    pub fn open(dir: &Path, short: &str) -> io::Result<SimHost> {
        let w = World::load(dir)?;
        if !w.nodes.contains_key(short) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("simulated world has no node {short}"),
            ));
        }
        Ok(SimHost {
            dir: dir.to_path_buf(),
            me: short.to_string(),
        })
    }

    /// Runs `f` on the world under the lock, logs the entry, applies crash
    /// faults after the world is stored.
    fn act<R>(&mut self, line: String, f: impl FnOnce(&mut World, &str) -> (R, bool)) -> R {
        enum After {
            Nothing,
            Crash,
            Hang,
        }
        let me = self.me.clone();
        let out = World::update(&self.dir, |w| {
            let (r, change) = f(w, &me);
            w.seq += 1;
            let seq = w.seq;
            let n = w.node_mut(&me);
            n.log.push(LogEntry {
                seq,
                kind: if change { "change" } else { "query" }.into(),
                line,
            });
            let mut after = After::Nothing;
            if change {
                n.changes += 1;
                let c = n.changes;
                if n.faults.crash_after_change == Some(c) {
                    n.faults.crash_after_change = None;
                    after = After::Crash;
                } else if n.faults.hang_after_change == Some(c) {
                    n.faults.hang_after_change = None;
                    after = After::Hang;
                } else if n.faults.reboot_after_change == Some(c) {
                    n.faults.reboot_after_change = None;
                    w.reboot(&me);
                    after = After::Crash;
                }
            }
            (r, after)
        });
        match out {
            Ok((r, After::Nothing)) => r,
            Ok((_, After::Crash)) => std::process::exit(CRASH_EXIT),
            Ok((_, After::Hang)) => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            Err(e) => {
                eprintln!("simulated world {}: {e}", self.dir.display());
                std::process::exit(CRASH_EXIT);
            }
        }
    }
}

impl Host for SimHost {
    fn run(&mut self, argv: &Argv) -> CmdResult {
        let line = argv.to_string();
        let parts: Vec<&str> = argv.iter().map(String::as_str).collect();
        self.act(line, |w, me| w.exec(me, &parts))
    }

    fn read_file(&mut self, path: &str) -> io::Result<String> {
        let path = path.to_string();
        self.act(format!("read {path}"), |w, me| (w.read(me, &path), false))
    }

    fn read_head(&mut self, path: &str, len: usize) -> io::Result<Vec<u8>> {
        let path = path.to_string();
        self.act(format!("probe {path}"), |w, me| {
            (w.head(me, &path, len), false)
        })
    }

    fn write_file(&mut self, path: &str, contents: &str) -> io::Result<()> {
        let path = path.to_string();
        let contents = contents.to_string();
        self.act(format!("write {path}"), |w, me| {
            (w.write(me, &path, &contents), true)
        })
    }

    fn sleep(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

const KNOWN_SERVICES: &[&str] = &[
    "cman",
    "clvmd",
    "drbd",
    "gfs2",
    "xend",
    "clusterkick-firstboot",
];

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
            ["/etc/init.d/cman", "start"] => c(self.cman_start(me)),
            ["/etc/init.d/cman", "stop"] => {
                let n = self.node_mut(me);
                n.running.insert("cman".into(), false);
                n.running.insert("clvmd".into(), false);
                c(res(0, "Stopping cluster: \n   Stopping fencing... done\n   Stopping cman... done\n   Stopping ccsd... done\n   Unmounting configfs... done\n                                                           [  OK  ]\n", ""))
            }
            ["cman_tool", "status"] => q(self.cman_status(me)),
            ["cman_tool", "nodes"] => q(self.cman_nodes(me)),
            ["chkconfig", svc, onoff @ ("on" | "off")] => {
                if !KNOWN_SERVICES.contains(svc) {
                    return c(res(1, "", format!("error reading information on service {svc}: No such file or directory\n")));
                }
                self.node_mut(me)
                    .chkconfig
                    .insert(svc.to_string(), *onoff == "on");
                c(res(0, "", ""))
            }
            ["chkconfig", svc] => q(
                if self.node(me).chkconfig.get(*svc).copied().unwrap_or(false) {
                    res(0, "", "")
                } else {
                    res(1, "", "")
                },
            ),
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
            ["/etc/init.d/drbd", "start"] => c(self.drbd_start(me)),
            ["/etc/init.d/clvmd", "status"] => q(if self.node(me).is_running("clvmd") {
                res(
                    0,
                    "clvmd (pid 4242) is running...\nactive volumes: lv00 lv01 lv02\n",
                    "",
                )
            } else {
                res(3, "clvmd is stopped\nactive volumes: lv00 lv01 lv02\n", "")
            }),
            ["/etc/init.d/clvmd", "start"] => c(self.clvmd_start(me)),
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

    // --------------------------------------------------------------- cman

    fn cman_start(&mut self, me: &str) -> CmdResult {
        let n = self.node_mut(me);
        if !n.is_running("cman") {
            n.running.insert("cman".into(), true);
            n.cman_started_ms = Some(now_ms());
        }
        res(
            0,
            "Starting cluster: \n   Loading modules... done\n   Mounting configfs... done\n   Starting ccsd... done\n   Starting cman... done\n   Starting daemons... done\n   Starting fencing... done\n                                                           [  OK  ]\n",
            "",
        )
    }

    fn members(&self) -> Vec<&NodeWorld> {
        self.nodes
            .values()
            .filter(|n| n.is_running("cman"))
            .collect()
    }

    fn cman_status(&self, me: &str) -> CmdResult {
        let n = self.node(me);
        if !n.is_running("cman") {
            return res(
                1,
                "",
                "cman_tool: Cannot open connection to cman, is it running ?\n",
            );
        }
        let members = self.members().len();
        let out = format!(
            "Version: 6.2.0\nConfig Version: 1\nCluster Name: {}\nCluster Id: 26777\nCluster Member: Yes\nCluster Generation: {}\nMembership state: Cluster-Member\nNodes: {members}\nExpected votes: 1\nTotal votes: {members}\nQuorum: 1  \nActive subsystems: 7\nFlags: 2node Dirty \nPorts Bound: 0  \nNode name: {}\nNode ID: {}\nMulticast addresses: 239.192.104.2 \nNode addresses: {} \n",
            self.cluster,
            4 * members,
            n.name,
            n.id,
            n.address
        );
        res(0, out, "")
    }

    fn cman_nodes(&self, me: &str) -> CmdResult {
        if !self.node(me).is_running("cman") {
            return res(
                1,
                "",
                "cman_tool: Cannot open connection to cman, is it running ?\n",
            );
        }
        let mut rows: Vec<&NodeWorld> = self.nodes.values().collect();
        rows.sort_by_key(|n| n.id);
        let mut out = String::from("Node  Sts   Inc   Joined               Name\n");
        for n in rows {
            if n.is_running("cman") {
                out.push_str(&format!(
                    "{:4}   M  {:5}   2010-05-10 20:54:35  {}\n",
                    n.id, 4, n.name
                ));
            } else {
                out.push_str(&format!(
                    "{:4}   X  {:5}   {:19}  {}\n",
                    n.id, 0, "", n.name
                ));
            }
        }
        res(0, out, "")
    }

    // ---------------------------------------------------------------- LVM

    fn lvs(&self, me: &str, vg: &str) -> CmdResult {
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

    fn pvs(&self, me: &str) -> CmdResult {
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

    fn vgs(&self, me: &str) -> CmdResult {
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

    fn lvcreate(&mut self, me: &str, size: &str, name: &str, vg: &str) -> CmdResult {
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
    fn activate_everywhere(&mut self, key: &str) {
        for n in self.nodes.values_mut() {
            if n.is_running("clvmd") && n.clustered_vg_visible() {
                n.active.insert(key.to_string());
            }
        }
    }

    fn pvcreate(&mut self, me: &str, dev: &str) -> CmdResult {
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

    fn vgcreate(&mut self, me: &str, vg: &str, dev: &str) -> CmdResult {
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

    fn pvscan(&self, me: &str) -> CmdResult {
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

    fn vgscan(&self, me: &str) -> CmdResult {
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

    fn lvscan(&self, me: &str) -> CmdResult {
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

    fn lvchange(&mut self, me: &str, path: &str, up: bool) -> CmdResult {
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

    fn clvmd_start(&mut self, me: &str) -> CmdResult {
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

    // --------------------------------------------------------------- GFS2

    fn cl_lv<'a>(&'a self, me: &str, dev: &str) -> Option<&'a ClLv> {
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

    fn gfs2_sb(&self, me: &str, dev: &str, field: &str) -> CmdResult {
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

    fn mkfs(&mut self, me: &str, args: &[&str]) -> CmdResult {
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

    fn mount(&mut self, me: &str, dir: &str) -> CmdResult {
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

    // ---------------------------------------------------------------- DRBD

    /// Writes to /dev/drbd0 reach the peer's disk while connected.
    /// A Primary writing while disconnected starts a new data generation
    /// (DRBD moves the current UUID to the bitmap slot), so that the next
    /// connect resyncs from it, or detects a split brain.
    fn write_data(&mut self, me: &str, mut f: impl FnMut(&mut DrbdData)) {
        let peer = self.peer_of(me);
        let connected = self.node(me).drbd.net == "Connected"
            && self
                .nodes
                .get(&peer)
                .is_some_and(|p| p.drbd.net == "Connected");
        if !connected {
            let needs_new = self
                .node(me)
                .drbd
                .md
                .as_ref()
                .is_some_and(|m| m.uuids.get(1).is_some_and(|b| b.chars().all(|c| c == '0')));
            if needs_new && self.node(me).drbd.attached {
                let u = self.next_uuid();
                if let Some(md) = self.node_mut(me).drbd.md.as_mut() {
                    md.uuids[1] = md.uuids[0].clone();
                    md.uuids[0] = format!("{u:016X}");
                }
            }
        }
        f(&mut self.node_mut(me).data);
        if connected {
            f(&mut self.node_mut(&peer).data);
        }
    }

    /// Runs `f` on the file map a path lives in: a GFS2 mount's LV (shared
    /// through DRBD) or the node's own files.
    fn with_file_home<R>(
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

    fn read(&mut self, me: &str, path: &str) -> io::Result<String> {
        let not_found = || {
            Err(io::Error::new(
                io::ErrorKind::NotFound,
                "No such file or directory",
            ))
        };
        match path {
            "/proc/drbd" => {
                if !self.node(me).drbd.loaded {
                    return not_found();
                }
                self.advance_sync();
                Ok(self.proc_drbd(me))
            }
            "/proc/mounts" => {
                let n = self.node(me);
                let mut s = format!("rootfs / rootfs rw 0 0\n/dev/root / ext3 rw,data=ordered 0 0\n/dev /dev tmpfs rw 0 0\n/proc /proc proc rw 0 0\n/sys /sys sysfs rw 0 0\n/dev/mapper/{}-lv01 / ext3 rw,data=ordered 0 0\n", n.backing_vg);
                for (i, m) in n.mounts.iter().enumerate() {
                    s.push_str(&format!(
                        "/dev/mapper/{} {} gfs2 rw,hostdata=jid={}:id=65537:first=1 0 0\n",
                        m.lv.replace('/', "-"),
                        m.dir,
                        i
                    ));
                }
                Ok(s)
            }
            _ => {
                let n = self.node(me);
                if let Some(m) = n.mount_for(path) {
                    let lv = m.lv.clone();
                    let v = n.data.vg.as_ref();
                    return v
                        .and_then(|v| {
                            v.lvs
                                .iter()
                                .find(|l| format!("{}/{}", v.name, l.name) == lv)
                        })
                        .and_then(|l| l.files.get(path).cloned())
                        .map_or_else(not_found, Ok);
                }
                n.files.get(path).cloned().map_or_else(not_found, Ok)
            }
        }
    }

    fn write(&mut self, me: &str, path: &str, contents: &str) -> io::Result<()> {
        let (p, c) = (path.to_string(), contents.to_string());
        self.with_file_home(me, path, |files| {
            files.insert(p.clone(), c.clone());
        });
        Ok(())
    }

    fn head(&self, me: &str, path: &str, len: usize) -> io::Result<Vec<u8>> {
        let n = self.node(me);
        if path != n.backing_path() || !n.has_backing() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "No such file or directory",
            ));
        }
        let mut b = vec![0u8; len];
        let mut put = |at: usize, bytes: &[u8]| {
            if at + bytes.len() <= b.len() {
                b[at..at + bytes.len()].copy_from_slice(bytes);
            }
        };
        if n.data.pv && !n.faults.probe_blind {
            put(512, b"LABELONE");
            put(536, b"LVM2 001");
        }
        match n.data.raw.as_deref() {
            Some("gfs2") => put(65536, &[0x01, 0x16, 0x19, 0x70]),
            Some("ext3") => put(1080, &[0x53, 0xEF]),
            _ => {}
        }
        Ok(b)
    }

    fn drbd_start(&mut self, me: &str) -> CmdResult {
        let n = self.node_mut(me);
        n.drbd.loaded = true;
        let res_name = n.resource.clone();
        if n.drbd.attached {
            return res(0, "Starting DRBD resources: [ ].\n", "");
        }
        if !n.has_backing() {
            let msg = format!("open({}) failed: No such file or directory\nCommand '{}' terminated with exit code 20\n", n.backing_path(), n.drbdmeta("apply-al"));
            return res(
                0,
                format!("Starting DRBD resources: [ d({res_name}) ].\n"),
                msg,
            );
        }
        let Some(md) = n.drbd.md.clone() else {
            let msg = format!(
                "No valid meta data found\nCommand '{}' terminated with exit code 255\n",
                n.drbdmeta("apply-al")
            );
            return res(
                0,
                format!("Starting DRBD resources: [ d({res_name}) ].\n"),
                msg,
            );
        };
        n.drbd.attached = true;
        n.drbd.role = "Secondary".into();
        n.drbd.disk = if md.flags.get(1) == Some(&1) {
            "UpToDate"
        } else {
            "Inconsistent"
        }
        .into();
        self.try_connect(me);
        res(
            0,
            format!("Starting DRBD resources: [ d({res_name}) s({res_name}) n({res_name}) ].\n"),
            "",
        )
    }

    fn try_connect(&mut self, me: &str) {
        let peer = self.peer_of(me);
        self.node_mut(me).drbd.net = "WFConnection".into();
        let p = self.node(&peer);
        if p.drbd.attached && p.drbd.net == "WFConnection" {
            self.handshake(me, &peer);
        }
    }

    fn handshake(&mut self, a: &str, b: &str) {
        let ua = self
            .node(a)
            .drbd
            .md
            .clone()
            .map(|m| m.uuids)
            .unwrap_or_default();
        let ub = self
            .node(b)
            .drbd
            .md
            .clone()
            .map(|m| m.uuids)
            .unwrap_or_default();
        let new_a = self.node(a).drbd.md.as_ref().is_some_and(Md::is_brand_new);
        let new_b = self.node(b).drbd.md.as_ref().is_some_and(Md::is_brand_new);
        let (da, db) = (self.node(a).drbd.discard, self.node(b).drbd.discard);
        let source: Option<(String, String)> = if da && !db {
            Some((b.into(), a.into()))
        } else if db && !da {
            Some((a.into(), b.into()))
        } else if ua.first() == ub.first() || (new_a && new_b) {
            None
        } else if new_a {
            Some((b.into(), a.into()))
        } else if new_b {
            Some((a.into(), b.into()))
        } else if ub.iter().skip(1).any(|u| Some(u) == ua.first()) {
            Some((b.into(), a.into()))
        } else if ua.iter().skip(1).any(|u| Some(u) == ub.first()) {
            Some((a.into(), b.into()))
        } else {
            for n in [a, b] {
                self.node_mut(n).drbd.net = "StandAlone".into();
            }
            self.events
                .push("Split-Brain detected, dropping connection!".into());
            return;
        };
        for n in [a, b] {
            let d = &mut self.node_mut(n).drbd;
            d.net = "Connected".into();
            d.discard = false;
        }
        if let Some((src, tgt)) = source {
            self.start_sync(&src, &tgt);
        }
    }

    fn start_sync(&mut self, src: &str, tgt: &str) {
        let data = self.node(src).data.clone();
        let total = self.node(src).backing_kib().max(1024);
        let t = self.node_mut(tgt);
        t.data = data;
        t.drbd.disk = "Inconsistent".into();
        self.node_mut(src).drbd.disk = "UpToDate".into();
        self.sync = Some(SyncJob {
            source: src.into(),
            target: tgt.into(),
            total_kib: total,
            left_kib: total,
            step_kib: total / 10,
        });
    }

    fn advance_sync(&mut self) {
        let Some(mut s) = self.sync.clone() else {
            return;
        };
        let both = [&s.source, &s.target].iter().all(|n| {
            self.nodes
                .get(*n)
                .is_some_and(|n| n.drbd.net == "Connected")
        });
        if !both {
            return;
        }
        s.left_kib = s.left_kib.saturating_sub(s.step_kib.max(1));
        if s.left_kib == 0 {
            if let Some(md) = self.node_mut(&s.source).drbd.md.as_mut() {
                if md.uuids[1].chars().any(|c| c != '0') {
                    md.uuids[3] = md.uuids[2].clone();
                    md.uuids[2] = md.uuids[1].clone();
                    md.uuids[1] = format!("{:016X}", 0);
                }
            }
            let md = self.node(&s.source).drbd.md.clone();
            let t = self.node_mut(&s.target);
            t.drbd.disk = "UpToDate".into();
            t.drbd.md = md;
            self.sync = None;
        } else {
            self.sync = Some(s);
        }
    }

    fn cs(&self, me: &str) -> String {
        let n = self.node(me);
        if n.drbd.net != "Connected" {
            return n.drbd.net.clone();
        }
        match &self.sync {
            Some(s) if s.source == me => "SyncSource".into(),
            Some(s) if s.target == me => "SyncTarget".into(),
            _ => "Connected".into(),
        }
    }

    /// /proc/drbd as this node's DRBD version prints it.
    pub fn proc_drbd(&self, me: &str) -> String {
        let n = self.node(me);
        let new = n.drbd_version != "8.3.2";
        let mut s = if new {
            "version: 8.3.12 (api:88/proto:86-96)\nGIT-hash: e2a8ef4656be026bbae540305fcb998a5991090f build by mockbuild@builder10.centos.org, 2012-01-28 13:52:25\n".to_string()
        } else {
            "version: 8.3.2 (api:88/proto:86-90)\nGIT-hash: dd7985327f146f33b86d4bff5ca8c94234ce840e build by mockbuild@v20z-x86-64.home.local, 2009-08-29 14:08:07\n".to_string()
        };
        if n.minor > 0 {
            s.push('\n');
        }
        if !n.drbd.attached {
            s.push_str(&format!("{:2}: cs:Unconfigured\n", n.minor));
            return s;
        }
        let peer = self.node(&self.peer_of(me));
        let cs = self.cs(me);
        let connected = n.drbd.net == "Connected";
        let (prole, pdisk) = if connected {
            (peer.drbd.role.as_str(), peer.drbd.disk.as_str())
        } else {
            ("Unknown", "DUnknown")
        };
        let proto = if n.drbd.net == "StandAlone" { ' ' } else { 'C' };
        let flags = if new { "r-----" } else { "r----" };
        s.push_str(&format!(
            "{:2}: cs:{cs} ro:{}/{prole} ds:{}/{pdisk} {proto} {flags}\n",
            n.minor, n.drbd.role, n.drbd.disk
        ));
        let (done, oos) = match &self.sync {
            Some(j) if cs.starts_with("Sync") => (j.total_kib - j.left_kib, j.left_kib),
            _ => (0, 0),
        };
        s.push_str(&format!(
            "    ns:{} nr:{} dw:{} dr:{} al:0 bm:{} lo:0 pe:0 ua:0 ap:0 ep:1 wo:b oos:{oos}\n",
            if cs == "SyncSource" { done } else { 0 },
            if cs == "SyncTarget" { done } else { 0 },
            if cs == "SyncTarget" { done } else { 0 },
            if cs == "SyncSource" { done } else { 0 },
            done / 4096
        ));
        if let Some(j) = self.sync.as_ref().filter(|_| cs.starts_with("Sync")) {
            let permille = ((j.total_kib - j.left_kib) * 1000 / j.total_kib) as u32;
            let x = (permille / 50) as usize;
            let bar = format!(
                "[{}>{}]",
                "=".repeat(x.saturating_sub(1)),
                ".".repeat(20 - x.min(20))
            );
            let big = j.total_kib > 1024 * 1024;
            let (left, total, unit) = if big {
                (j.left_kib / 1024, j.total_kib / 1024, 'M')
            } else {
                (j.left_kib, j.total_kib, 'K')
            };
            let secs = j.left_kib / SYNC_KPS;
            let want = if new && cs == "SyncTarget" {
                format!(" want: {}", thousands(SYNC_KPS))
            } else {
                String::new()
            };
            s.push_str(&format!(
                "\t{bar} sync'ed:{:3}.{}% ({left}/{total}){unit}\n\tfinish: {}:{:02}:{:02} speed: {} ({}){want} K/sec\n",
                permille / 10,
                permille % 10,
                secs / 3600,
                (secs % 3600) / 60,
                secs % 60,
                thousands(SYNC_KPS),
                thousands(SYNC_KPS)
            ));
        }
        s
    }

    fn drbdadm(&mut self, me: &str, args: &[&str]) -> (CmdResult, bool) {
        let (opts, rest): (Vec<&str>, Vec<&str>) = match args {
            ["--", more @ ..] => {
                let opts: Vec<&str> = more
                    .iter()
                    .copied()
                    .filter(|a| a.starts_with("--"))
                    .collect();
                let rest: Vec<&str> = more
                    .iter()
                    .copied()
                    .filter(|a| !a.starts_with("--"))
                    .collect();
                (opts, rest)
            }
            _ => (Vec::new(), args.to_vec()),
        };
        let [cmd, resname] = rest.as_slice() else {
            return (res(20, "", "drbdadm: usage error\n"), false);
        };
        if *resname != self.node(me).resource {
            return (
                res(10, "", format!("'{resname}' not defined in your config.\n")),
                false,
            );
        }
        let opt = |o: &str| opts.contains(&o);
        let minor = self.node(me).minor;
        let attached = self.node(me).drbd.attached;
        let drbdsetup_fail = |code: i32, msg: &str, sub: &str| {
            res(
                code,
                "",
                format!("{minor}: State change failed: {msg}\nCommand 'drbdsetup {minor} {sub}' terminated with exit code {code}\n"),
            )
        };
        match *cmd {
            "dump-md" => {
                let n = self.node(me);
                if attached {
                    return (res(20, "", format!("Device '{}' is configured!\nCommand '{}' terminated with exit code 20\n", n.device(), n.drbdmeta("dump-md"))), false);
                }
                if !n.has_backing() {
                    return (res(20, "", format!("open({}) failed: No such file or directory\nCommand '{}' terminated with exit code 20\n", n.backing_path(), n.drbdmeta("dump-md"))), false);
                }
                match &n.drbd.md {
                    None => (res(255, "", format!("Command '{}' terminated with exit code 255\ndrbdadm dump-md {resname}: exited with code 255\n", n.drbdmeta("dump-md"))), false),
                    Some(md) => (res(0, format!(
                        "# DRBD meta data dump\n# 2010-05-10 20:54:32 +0000 [1273524872]\n# {}> {}\n#\n\nversion \"v08\";\n\n# md_size_sect 262144\n# md_offset 429496725504\n# al_offset 429496692736\n# bm_offset 429483585536\n\nuuid {{\n    0x{}; 0x{}; 0x{}; 0x{};\n    flags 0x{:08X};\n}}\n# al-extents 257;\nla-size-sect 838860800;\nbm-byte-per-bit 4096;\ndevice-uuid 0x2A8B2C1D3E4F5061;\n# bm-bytes 13107200;\nbm {{\n}}\n# bits-set 0;\n",
                        n.name, n.drbdmeta("dump-md"), md.uuids[0], md.uuids[1], md.uuids[2], md.uuids[3],
                        md.flags.iter().enumerate().map(|(i, f)| u32::from(*f) << i).sum::<u32>()
                    ), ""), false),
                }
            }
            "get-gi" => {
                let n = self.node(me);
                if !n.has_backing() {
                    return (
                        res(
                            20,
                            "",
                            format!(
                                "open({}) failed: No such file or directory\n",
                                n.backing_path()
                            ),
                        ),
                        false,
                    );
                }
                let Some(md) = &n.drbd.md else {
                    return (res(255, "", format!("No valid meta data found\nCommand '{}' terminated with exit code 255\n", n.drbdmeta("get-gi"))), false);
                };
                let flags = if attached {
                    n.live_flags()
                } else {
                    md.flags.clone()
                };
                let line = format!(
                    "{}:{}\n",
                    md.uuids.join(":"),
                    flags
                        .iter()
                        .map(|f| f.to_string())
                        .collect::<Vec<_>>()
                        .join(":")
                );
                (res(0, line, ""), false)
            }
            "create-md" => {
                let n = self.node(me);
                if attached {
                    return (res(20, "", format!("Device '{}' is configured!\nCommand '{}' terminated with exit code 20\n", n.device(), n.drbdmeta("create-md"))), true);
                }
                if !n.has_backing() {
                    return (
                        res(
                            20,
                            "",
                            format!(
                                "open({}) failed: No such file or directory\n",
                                n.backing_path()
                            ),
                        ),
                        true,
                    );
                }
                let force = opt("--force");
                let mut err = String::new();
                if n.drbd.md.is_some() {
                    err.push_str("\nDo you really want to overwrite the existing v08 meta-data?\n[need to type 'yes' to confirm] ");
                    if !force {
                        return (res(1, "", format!("{err}\nOperation cancelled.\n")), true);
                    }
                    err.push_str("*** confirmation forced via --force option ***\n");
                } else if n.data.pv || n.data.raw.is_some() {
                    err.push_str("md_offset 429496725504\nal_offset 429496692736\nbm_offset 429483585536\n\nFound LVM2 physical volume signature\n 419430400 kB left usable by current configuration\nCould not determine the size of the actually used data area.\n\nDevice size would be truncated, which\nwould corrupt data and result in\n'access beyond end of device' errors.\nIf you want me to do this, you need to zero out the first part\nof the device (destroy the content).\nYou should be very sure that you mean it.\nOperation refused.\n\n");
                    return (res(40, "", format!("{err}Command '{}' terminated with exit code 40\ndrbdadm create-md {resname}: exited with code 40\n", n.drbdmeta("create-md"))), true);
                }
                self.node_mut(me).drbd.md = Some(Md::brand_new());
                (res(0, "Writing meta data...\ninitializing activity log\nNew drbd meta data block successfully created.\n", format!("{err}NOT initialized bitmap\n")), true)
            }
            "primary" => {
                if !attached {
                    return (res(10, "", format!("{minor}: Failure: (127) Device minor not allocated\nCommand 'drbdsetup {minor} primary' terminated with exit code 10\n")), true);
                }
                let peer = self.peer_of(me);
                let connected = self.node(me).drbd.net == "Connected";
                if opt("--overwrite-data-of-peer") {
                    let u = self.next_uuid();
                    let n = self.node_mut(me);
                    n.drbd.role = "Primary".into();
                    n.drbd.disk = "UpToDate".into();
                    if let Some(md) = n.drbd.md.as_mut() {
                        md.uuids[0] = format!("{u:016X}");
                        md.flags = vec![1, 1, 1, u8::from(connected), 0, 0, 0];
                    }
                    if connected {
                        self.start_sync(me, &peer);
                    }
                    return (res(0, "", ""), true);
                }
                let n = self.node(me);
                let peer_ok = connected && self.node(&peer).drbd.disk == "UpToDate";
                if n.drbd.disk != "UpToDate" && !peer_ok {
                    return (
                        drbdsetup_fail(
                            17,
                            "(-2) Refusing to be Primary without at least one UpToDate disk",
                            "primary",
                        ),
                        true,
                    );
                }
                self.node_mut(me).drbd.role = "Primary".into();
                (res(0, "", ""), true)
            }
            "secondary" => {
                let n = self.node(me);
                let in_use = !n.mounts.is_empty()
                    || n.data.vg.as_ref().is_some_and(|v| {
                        v.lvs
                            .iter()
                            .any(|l| n.active.contains(&format!("{}/{}", v.name, l.name)))
                    });
                if in_use {
                    return (
                        drbdsetup_fail(11, "(-12) Device is held open by someone", "secondary"),
                        true,
                    );
                }
                self.node_mut(me).drbd.role = "Secondary".into();
                (res(0, "", ""), true)
            }
            "connect" => {
                let n = self.node(me);
                if !attached {
                    return (
                        res(
                            10,
                            "",
                            format!("{minor}: Failure: (127) Device minor not allocated\n"),
                        ),
                        true,
                    );
                }
                if n.drbd.net != "StandAlone" {
                    return (res(10, "", format!("{minor}: Failure: (125) Device has a net-config (use disconnect first)\nCommand 'drbdsetup {minor} net ...' terminated with exit code 10\n")), true);
                }
                if opt("--discard-my-data") {
                    if n.drbd.role == "Primary" {
                        return (res(10, "", format!("{minor}: Failure: (123) --discard-my-data not allowed when primary.\nCommand 'drbdsetup {minor} net ...' terminated with exit code 10\n")), true);
                    }
                    self.node_mut(me).drbd.discard = true;
                }
                if opt("--overwrite-data-of-peer") {
                    return (res(20, "", "drbdsetup net: unrecognized option '--overwrite-data-of-peer'\nCommand 'drbdsetup 0 net ...' terminated with exit code 20\n"), true);
                }
                self.try_connect(me);
                (res(0, "", ""), true)
            }
            "disconnect" => {
                let peer = self.peer_of(me);
                if self.node(me).drbd.net == "Connected" {
                    self.node_mut(&peer).drbd.net = "WFConnection".into();
                }
                self.node_mut(me).drbd.net = "StandAlone".into();
                (res(0, "", ""), true)
            }
            "new-current-uuid" => {
                let peer = self.peer_of(me);
                let both_connected = self.node(me).drbd.net == "Connected";
                if !attached || !both_connected {
                    return (res(10, "", format!("{minor}: Failure: (131) Need a connection to start verify or resync\n")), true);
                }
                if opt("--clear-bitmap") {
                    let u = self.next_uuid();
                    for n in [me.to_string(), peer] {
                        let n = self.node_mut(&n);
                        n.drbd.disk = "UpToDate".into();
                        if let Some(md) = n.drbd.md.as_mut() {
                            md.uuids = vec![
                                format!("{u:016X}"),
                                format!("{:016X}", 0),
                                format!("{:016X}", 0),
                                format!("{:016X}", 0),
                            ];
                            md.flags = vec![1, 1, 0, 1, 0, 0, 0];
                        }
                    }
                }
                (res(0, "", ""), true)
            }
            "cstate" => {
                let out = if attached {
                    self.cs(me)
                } else {
                    "Unconfigured".into()
                };
                (res(0, format!("{out}\n"), ""), false)
            }
            "dstate" => {
                let n = self.node(me);
                let out = if attached {
                    let peer = self.node(&self.peer_of(me));
                    let pd = if n.drbd.net == "Connected" {
                        peer.drbd.disk.as_str()
                    } else {
                        "DUnknown"
                    };
                    format!("{}/{pd}", n.drbd.disk)
                } else {
                    "Unconfigured".into()
                };
                (res(0, format!("{out}\n"), ""), false)
            }
            "role" => {
                let n = self.node(me);
                let out = if attached {
                    let peer = self.node(&self.peer_of(me));
                    let pr = if n.drbd.net == "Connected" {
                        peer.drbd.role.as_str()
                    } else {
                        "Unknown"
                    };
                    format!("{}/{pr}", n.drbd.role)
                } else {
                    "Unconfigured".into()
                };
                (res(0, format!("{out}\n"), ""), false)
            }
            other => (
                res(20, "", format!("drbdadm: unknown command '{other}'\n")),
                true,
            ),
        }
    }

    /// Power loss on `me`: processes and mounts are gone, DRBD is down; at
    /// boot what chkconfig enables starts again (cman, clvmd, drbd).
    pub fn reboot(&mut self, me: &str) {
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
        n.mounts.clear();
        n.active.clear();
        n.cman_started_ms = None;
        let chk = n.chkconfig.clone();
        let on = |s: &str| chk.get(s).copied().unwrap_or(false);
        if on("cman") {
            let _ = self.cman_start(me);
        }
        if on("drbd") {
            let _ = self.drbd_start(me);
        }
        if on("clvmd") {
            let _ = self.clvmd_start(me);
        }
        self.events.push(format!("{me} rebooted"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_thousands() {
        assert_eq!(size_to_m("400G"), Some(409_600));
        assert_eq!(size_to_m("20g"), Some(20_480));
        assert_eq!(size_to_m("512"), Some(512));
        assert_eq!(size_to_m("x"), None);
        assert_eq!(thousands(33_792), "33,792");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn md_brand_new() {
        assert!(Md::brand_new().is_brand_new());
        assert!(!Md::with_history(0x1234).is_brand_new());
    }
}
