//! The first-boot helper's per-node configuration.
//!
//! `clusterkick build` serializes one of these per node into the overlay as
//! `/etc/clusterkick/firstboot.toml` (`crate::helper_config`); the helper
//! reads it back with [`FirstbootConfig::load`]. Both sides use this one
//! struct, so the two cannot drift apart.

use crate::firstboot::file::read_regular;
use crate::firstboot::platform::id::PlatformId;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where the overlay puts this node's config on the node.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/clusterkick/firstboot.toml";

/// A config is about 1 KiB; anything past this is not one.
pub const CONFIG_FILE_MAX: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstbootConfig {
    /// Cluster name, as in cluster.conf (also the GFS2 lock table prefix).
    pub cluster: String,
    /// The platform from the profile, e.g. `el5-xen`: which plan the helper
    /// runs ([`crate::firstboot::platform::for_id`]).
    pub platform: PlatformId,
    /// Whether this node is new along with its peer (`initial`, the default
    /// when absent: both nodes are set up together) or replaces a dead node
    /// whose peer, the survivor, holds the data (`replacement`: the helper
    /// joins the survivor and never initializes). Written only when it is
    /// `replacement`, so that the configs of initial nodes stay as they were.
    #[serde(default, skip_serializing_if = "NodeRole::is_initial")]
    pub role: NodeRole,
    /// This node: its `uname -n` (FQDN), its short name and cman node id.
    pub node: NodeRef,
    /// The other node of the pair.
    pub peer: NodeRef,
    /// Address:port this helper listens on (back-channel address).
    pub listen: String,
    /// Address:port of the peer's helper (its back-channel address).
    pub peer_addr: String,
    /// File holding the per-cluster HMAC key (hex, mode 0600).
    pub key_file: PathBuf,
    /// Where the step state is persisted (written atomically after each step).
    pub state_file: PathBuf,
    /// Log file (one syslog-style line per step and per wait).
    pub log_file: PathBuf,
    /// cluster.conf's fence_daemon post_join_delay, in seconds: both nodes must
    /// start cman well inside this window.
    pub post_join_delay_secs: u64,
    pub drbd: DrbdConfig,
    pub clvm: ClvmConfig,
    pub timeouts: Timeouts,
    /// The pacemaker family only (`el9-kvm`, `debian12-kvm`): the CIB the
    /// helper loads and the ids of the resources it hands storage to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pacemaker: Option<PacemakerConfig>,
}

/// A node's part in the pair's first boot (`role` in firstboot.toml).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    /// Both nodes are new: the helpers set the pair up together (DRBD
    /// metadata and initial sync, the clustered VG, GFS2).
    #[default]
    Initial,
    /// This node replaces a dead one: its peer (the survivor) holds the
    /// data, and this node only joins it. Its plan holds no step that
    /// creates shared data, and its destructive path refuses every
    /// operation but its own backing LV and DRBD metadata.
    Replacement,
}

impl NodeRole {
    pub fn is_initial(&self) -> bool {
        *self == NodeRole::Initial
    }

    /// The word firstboot.toml, `plan` and the log use.
    pub fn word(self) -> &'static str {
        match self {
            NodeRole::Initial => "initial",
            NodeRole::Replacement => "replacement",
        }
    }
}

/// `[pacemaker]`: what the pacemaker-family steps need beyond the engine's
/// fields. The resource ids are the CIB's (written by the build), never
/// spelled by the helper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PacemakerConfig {
    /// The pacemaker configuration the build wrote (a `<cib>` document, or
    /// its `<configuration>`), loaded once on the initial primary.
    pub cib_file: PathBuf,
    /// The DRBD promotable clone (held `target-role=Stopped` in `cib_file`
    /// until the helper hands DRBD to pacemaker).
    pub drbd_clone: String,
    /// The cloned group of dlm (`ocf:pacemaker:controld`) and lvmlockd.
    pub locking_clone: String,
    /// Clones held `target-role=Stopped` in `cib_file` until their VG, LVs
    /// and file systems exist; the helper then clears their target-role.
    pub start_after_storage: Vec<String>,
    /// The operation timeout the CIB gives its resources (`op_defaults`),
    /// in seconds: the helper's own calls to pacemaker's tools wait as
    /// long.
    pub op_timeout_secs: u64,
    /// How long to wait for pacemaker to promote DRBD on both nodes and to
    /// start every resource on both, in seconds.
    pub resources_secs: u64,
    /// The DRBD generation the node runs: `"8.4"` (Debian 12's kernel,
    /// drbd-utils 9) or `"9"` (ELRepo's kmod-drbd9x on el9).
    pub drbd_generation: DrbdGeneration,
}

/// Which DRBD the node runs: its command spellings and status formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DrbdGeneration {
    /// DRBD 8.4 (the kernel's module; drbd-utils 9 hands `drbdadm` to
    /// `drbdadm-84`): status from /proc/drbd.
    #[serde(rename = "8.4")]
    V84,
    /// DRBD 9: status from `drbdsetup status --json`.
    #[serde(rename = "9")]
    V9,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeRef {
    /// Fully qualified name, as `uname -n` prints it and cluster.conf names it.
    pub name: String,
    /// Short host name.
    pub short: String,
    /// cman node id.
    pub id: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrbdConfig {
    /// Resource name, e.g. "r0".
    pub resource: String,
    /// DRBD device, e.g. "/dev/drbd0".
    pub device: String,
    /// True on the node that runs the initial `--overwrite-data-of-peer`.
    pub initial_primary: bool,
    /// Local VG that holds the backing LV, e.g. "an-lvm01".
    pub backing_vg: String,
    /// Backing LV name, e.g. "lv02".
    pub backing_lv: String,
    /// Backing LV size as lvcreate's `-L` takes it, e.g. "400G".
    pub backing_size: String,
    /// Skip the full initial sync of a brand-new pair with
    /// `new-current-uuid --clear-bitmap` (blank disks only).
    pub skip_initial_sync: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClvmConfig {
    /// Clustered VG on the DRBD device, e.g. "drbd_vg0".
    pub vg: String,
    pub volumes: Vec<VolumeConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeConfig {
    pub name: String,
    /// Size as lvcreate's `-L` takes it, e.g. "20G".
    pub size: String,
    /// Present when the LV carries a GFS2 file system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gfs2: Option<Gfs2Config>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gfs2Config {
    pub mountpoint: String,
    pub journals: u32,
    /// `<cluster>:<fs name>`, as mkfs.gfs2 -t takes it.
    pub lock_table: String,
}

/// Every wait the helper makes, each configurable, in seconds; retries back off
/// from `retry_initial_ms` doubling up to `retry_max_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// Waiting for the peer's helper to answer on the back channel.
    pub peer_secs: u64,
    /// Waiting for cman to show both members and quorum.
    pub cman_secs: u64,
    /// Waiting for DRBD to reach Connected.
    pub drbd_connect_secs: u64,
    /// Waiting for the initial sync to start / both sides to be Primary.
    pub drbd_primary_secs: u64,
    /// Waiting at any other barrier.
    pub barrier_secs: u64,
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
}

impl FirstbootConfig {
    /// Reads and parses a config file: only a regular file of at most
    /// [`CONFIG_FILE_MAX`] bytes (a FIFO or a device is refused, unread).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = read_regular(path, CONFIG_FILE_MAX).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses config text; the error is toml's message (it names line and key).
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Checks what the steps and the protocol rely on beyond the types.
    pub fn check(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        for (what, v) in [
            ("node.name", &self.node.name),
            ("node.short", &self.node.short),
            ("peer.name", &self.peer.name),
            ("peer.short", &self.peer.short),
            ("drbd.resource", &self.drbd.resource),
            ("drbd.backing_vg", &self.drbd.backing_vg),
            ("drbd.backing_lv", &self.drbd.backing_lv),
            ("clvm.vg", &self.clvm.vg),
        ] {
            if !plain_word(v) {
                return bad(format!(
                    "{what} {v:?} must be letters, digits, '.', '_' or '-'"
                ));
            }
        }
        if self.node.name == self.peer.name || self.node.short == self.peer.short {
            return bad("node and peer must differ".into());
        }
        if self.drbd.minor().is_none() {
            return bad(format!(
                "drbd.device {:?} is not /dev/drbdN",
                self.drbd.device
            ));
        }
        if self.timeouts.retry_initial_ms == 0
            || self.timeouts.retry_max_ms < self.timeouts.retry_initial_ms
        {
            return bad("timeouts: need 0 < retry_initial_ms <= retry_max_ms".into());
        }
        match (&self.pacemaker, self.platform.is_pacemaker()) {
            (None, true) => {
                return bad(format!(
                    "platform {} needs a [pacemaker] table",
                    self.platform
                ))
            }
            (Some(_), false) => {
                return bad(format!(
                    "platform {} has no pacemaker: remove the [pacemaker] table",
                    self.platform
                ))
            }
            (Some(p), true) => p.check()?,
            (None, false) => {}
        }
        for vol in &self.clvm.volumes {
            if !plain_word(&vol.name) {
                return bad(format!("volume name {:?}", vol.name));
            }
            if let Some(g) = &vol.gfs2 {
                if !g.mountpoint.starts_with('/') || g.mountpoint.contains(char::is_whitespace) {
                    return bad(format!(
                        "mountpoint {:?} must be an absolute path",
                        g.mountpoint
                    ));
                }
                if g.journals == 0 {
                    return bad(format!("{}: journals must be at least 1", vol.name));
                }
                match g.lock_table.split_once(':') {
                    Some((c, f)) if c == self.cluster && !f.is_empty() => {}
                    _ => {
                        return bad(format!(
                            "{}: lock_table {:?} must be {}:<fs name>",
                            vol.name, g.lock_table, self.cluster
                        ))
                    }
                }
            }
        }
        Ok(())
    }
}

impl PacemakerConfig {
    fn check(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if !self.cib_file.is_absolute() {
            return bad(format!(
                "pacemaker.cib_file {} must be an absolute path",
                self.cib_file.display()
            ));
        }
        let ids = [("pacemaker.drbd_clone", &self.drbd_clone)]
            .into_iter()
            .chain([("pacemaker.locking_clone", &self.locking_clone)])
            .chain(
                self.start_after_storage
                    .iter()
                    .map(|id| ("pacemaker.start_after_storage", id)),
            );
        for (what, id) in ids {
            if !plain_word(id) {
                return bad(format!(
                    "{what} {id:?} must be a resource id: letters, digits, '.', '_' or '-'"
                ));
            }
        }
        if self.op_timeout_secs == 0 || self.resources_secs == 0 {
            return bad("pacemaker: op_timeout_secs and resources_secs must be at least 1".into());
        }
        Ok(())
    }
}

impl DrbdConfig {
    /// The minor of `/dev/drbdN`.
    pub fn minor(&self) -> Option<u32> {
        self.device.strip_prefix("/dev/drbd")?.parse().ok()
    }
}

fn plain_word(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading first-boot config {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parsing first-boot config {path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// Parsed, but not what the steps and the protocol rely on.
    #[error("invalid first-boot config: {0}")]
    Invalid(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pacemaker-family config: the el5 fields plus `[pacemaker]`.
    fn pcmk_config() -> FirstbootConfig {
        let text = r#"
cluster = "an-cluster"
platform = "debian12-kvm"
listen = "10.0.1.71:7790"
peer_addr = "10.0.1.72:7790"
key_file = "/etc/clusterkick/firstboot.key"
state_file = "/var/lib/clusterkick/firstboot.state"
log_file = "/var/log/clusterkick-firstboot.log"
post_join_delay_secs = 30

[node]
name = "an-node01.alteeve.com"
short = "an-node01"
id = 1

[peer]
name = "an-node02.alteeve.com"
short = "an-node02"
id = 2

[drbd]
resource = "r0"
device = "/dev/drbd0"
initial_primary = true
backing_vg = "an-lvm01"
backing_lv = "lv02"
backing_size = "400G"
skip_initial_sync = false

[clvm]
vg = "drbd_vg0"

[[clvm.volumes]]
name = "iso_store"
size = "20G"
gfs2 = { mountpoint = "/shared/iso_store", journals = 2, lock_table = "an-cluster:iso_store" }

[timeouts]
peer_secs = 600
cman_secs = 600
drbd_connect_secs = 600
drbd_primary_secs = 600
barrier_secs = 600
retry_initial_ms = 500
retry_max_ms = 10000

[pacemaker]
cib_file = "/etc/clusterkick/cib.xml"
drbd_clone = "drbd_r0-clone"
locking_clone = "locking-clone"
start_after_storage = ["storage_drbd_vg0-clone"]
op_timeout_secs = 300
resources_secs = 1800
drbd_generation = "8.4"
"#;
        FirstbootConfig::parse(text).expect("parses")
    }

    #[test]
    fn the_pacemaker_table_parses_checks_and_round_trips() {
        let cfg = pcmk_config();
        cfg.check().expect("valid");
        let p = cfg.pacemaker.as_ref().expect("[pacemaker]");
        assert_eq!(p.drbd_generation, DrbdGeneration::V84);
        // What the build writes it with: the project's own TOML writer.
        let text = crate::toml_out::to_string(&cfg).expect("serializes");
        assert_eq!(FirstbootConfig::parse(&text).expect("parses back"), cfg);
        let mut v9 = cfg.clone();
        if let Some(p) = v9.pacemaker.as_mut() {
            p.drbd_generation = DrbdGeneration::V9;
        }
        let text = crate::toml_out::to_string(&v9).expect("serializes");
        assert!(text.contains("drbd_generation = \"9\""), "{text}");
    }

    #[test]
    fn the_pacemaker_table_belongs_to_the_pacemaker_family_only() {
        let mut cfg = pcmk_config();
        cfg.pacemaker = None;
        let e = cfg.check().unwrap_err().to_string();
        assert!(
            e.contains("platform debian12-kvm needs a [pacemaker] table"),
            "{e}"
        );
        let mut cfg = pcmk_config();
        cfg.platform = PlatformId::El5Xen;
        let e = cfg.check().unwrap_err().to_string();
        assert!(e.contains("remove the [pacemaker] table"), "{e}");
        let mut cfg = pcmk_config();
        if let Some(p) = cfg.pacemaker.as_mut() {
            p.start_after_storage.push("bad id".into());
        }
        let e = cfg.check().unwrap_err().to_string();
        assert!(
            e.contains("pacemaker.start_after_storage \"bad id\""),
            "{e}"
        );
        assert!(FirstbootConfig::parse(&toml_with("drbd_generation = \"8.3\"")).is_err());
    }

    #[test]
    fn the_role_defaults_to_initial_and_is_written_only_for_a_replacement() {
        let cfg = pcmk_config();
        assert_eq!(cfg.role, NodeRole::Initial);
        let text = crate::toml_out::to_string(&cfg).expect("serializes");
        assert!(!text.contains("role"), "{text}");
        let mut r = cfg.clone();
        r.role = NodeRole::Replacement;
        let text = crate::toml_out::to_string(&r).expect("serializes");
        assert!(text.contains("role = \"replacement\"\n"), "{text}");
        assert_eq!(FirstbootConfig::parse(&text).expect("parses back"), r);
        let initial = text.replace("role = \"replacement\"", "role = \"initial\"");
        assert_eq!(
            FirstbootConfig::parse(&initial).expect("parses").role,
            NodeRole::Initial
        );
        let bad = text.replace("role = \"replacement\"", "role = \"survivor\"");
        let e = FirstbootConfig::parse(&bad).unwrap_err();
        assert!(e.contains("initial") && e.contains("replacement"), "{e}");
    }

    fn toml_with(line: &str) -> String {
        let cfg = pcmk_config();
        let text = crate::toml_out::to_string(&cfg).expect("serializes");
        text.replace("drbd_generation = \"8.4\"", line)
    }
}
