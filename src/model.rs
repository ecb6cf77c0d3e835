//! The validated cluster, platform-neutral: typed values only. Everything
//! downstream (renderers, writers, media) reads this and never the raw
//! profile. What only one platform has (Xen's dom0 and bridges, openais's
//! totem, the package set, ...) is that platform's payload, a
//! [`crate::platform::Flavor`] carried beside the cluster.

use ipnet::Ipv4Net;
use serde::Serialize;
use std::net::Ipv4Addr;

/// A size in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Mib(pub u64);

impl Mib {
    /// As lvcreate's `-L` and drbd take it: whole GiB when exact, else MiB.
    pub fn lvm_arg(self) -> String {
        if self.0.is_multiple_of(1024) {
            format!("{}G", self.0 / 1024)
        } else {
            format!("{}M", self.0)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NetRole {
    Internet,
    Drbd,
    BackChannel,
}

impl NetRole {
    pub const ALL: [NetRole; 3] = [NetRole::Internet, NetRole::Drbd, NetRole::BackChannel];

    pub fn key(self) -> &'static str {
        match self {
            NetRole::Internet => "internet",
            NetRole::Drbd => "drbd",
            NetRole::BackChannel => "back_channel",
        }
    }

    pub fn from_key(k: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == k)
    }

    pub fn title(self) -> &'static str {
        match self {
            NetRole::Internet => "Internet-facing",
            NetRole::Drbd => "DRBD",
            NetRole::BackChannel => "back-channel",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Network {
    pub role: NetRole,
    pub interface: String,
    pub subnet: Ipv4Net,
    /// Network address, netmask and broadcast of `subnet`, as ifcfg files
    /// and openais's bindnetaddr write them.
    pub network: Ipv4Addr,
    pub netmask: Ipv4Addr,
    pub broadcast: Ipv4Addr,
    pub gateway: Option<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Nic {
    pub role: NetRole,
    pub interface: String,
    /// Upper-case, colon-separated, as ifcfg's HWADDR shows it.
    pub mac: String,
    pub ip: Ipv4Addr,
}

#[derive(Debug, Clone, Serialize)]
pub struct FenceMethod {
    pub name: String,
    pub devices: Vec<FenceRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FenceRef {
    pub device: String,
    pub port: Option<String>,
    pub action: Option<String>,
    pub delay: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// Short name, e.g. an-node01.
    pub name: String,
    /// name.domain: what `uname -n` prints and cluster.conf names.
    pub fqdn: String,
    pub id: u32,
    /// One NIC per network, in interface order (eth0, eth1, eth2).
    pub nics: Vec<Nic>,
    pub fence: Vec<FenceMethod>,
    /// Local VG on the node's disks, e.g. an-lvm01.
    pub vg: String,
    /// New hardware for a dead node (`role = "replacement"`): its helper
    /// joins the peer, which holds the data, and never initializes.
    pub replacement: bool,
}

impl Node {
    pub fn nic(&self, role: NetRole) -> &Nic {
        self.nics
            .iter()
            .find(|n| n.role == role)
            .expect("validation guarantees one NIC per network")
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FenceDevice {
    pub name: String,
    pub agent: String,
    /// Attributes in the order they are written: ipaddr, login, passwd, then
    /// the extra options sorted by name.
    pub attrs: Vec<(String, String)>,
    /// Where the password came from, for SUMMARY.md (never the password).
    pub passwd_source: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Install {
    pub url: String,
    pub overlay_url: String,
    pub timezone: String,
    pub timezone_utc: bool,
    pub lang: String,
    pub keyboard: String,
    pub root_password_hash: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Disks {
    pub devices: Vec<String>,
    pub size: Option<Mib>,
    pub boot: Mib,
    pub swap: Mib,
    pub root: Mib,
    pub drbd: Mib,
}

impl Disks {
    /// Two or more disks: RAID 1 md devices; one disk: plain partitions.
    pub fn mirrored(&self) -> bool {
        self.devices.len() > 1
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Drbd {
    /// The DRBD version the platform runs: "8.3", "8.4" or "9".
    pub version: String,
    pub resource: String,
    pub device: String,
    pub minor: u32,
    pub port: u16,
    pub protocol: String,
    pub sync_rate: String,
    pub network: NetRole,
    /// Short name of the node that runs the initial sync.
    pub primary: String,
    pub allow_two_primaries: bool,
    pub become_primary_on_both: bool,
    /// DRBD resource-and-stonith fencing plus split-brain policies.
    pub fencing: bool,
    pub usage_count: bool,
    /// The LV in each node's local VG that backs the DRBD device (made by
    /// the first-boot helper).
    pub backing_lv: String,
}

/// The name of DRBD's backing LV in each node's local VG: after the
/// installer's swap (lv00) and root (lv01).
pub const DRBD_BACKING_LV: &str = "lv02";

#[derive(Debug, Clone, Serialize)]
pub struct Gfs2 {
    pub mountpoint: String,
    pub journals: u32,
    /// cluster:fsname
    pub lock_table: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Volume {
    pub name: String,
    pub size: Mib,
    pub gfs2: Option<Gfs2>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Clvm {
    pub vg: String,
    pub volumes: Vec<Volume>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Firstboot {
    pub port: u16,
    pub skip_initial_sync: bool,
    pub peer_timeout_secs: u64,
    pub cman_timeout_secs: u64,
    pub drbd_connect_timeout_secs: u64,
    pub drbd_primary_timeout_secs: u64,
    pub barrier_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Pxe {
    pub boot_network: NetRole,
    pub kernel: String,
    pub initrd: String,
}

/// Secrets read at build time. Kept out of `Cluster`'s Serialize so that no
/// template sees them unless it is handed them on purpose.
#[derive(Clone, Default)]
pub struct Secrets {
    /// Fence device name → password.
    pub fence_passwords: Vec<(String, String)>,
    /// Hex-encoded per-cluster key for the first-boot helper.
    pub firstboot_key: String,
    /// The DRBD peers' shared secret (`cram-hmac-alg` / `shared-secret`):
    /// printable, on one line.
    pub drbd_secret: String,
    /// The cluster's authkey (binary): cman/openais's `keyfile` on el5,
    /// corosync's `authkey` on the pacemaker family.
    pub cluster_authkey: Vec<u8>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    pub name: String,
    pub domain: String,
    /// cman's fence_daemon post_join_delay; 0 on platforms without cman
    /// (they refuse the key).
    pub post_join_delay: u32,
    /// cluster.conf's (corosync.conf's) config_version: the profile's lock
    /// file decides it ([`crate::lockfile`]); until then the profile's
    /// value, or 1.
    pub config_version: u32,
    /// `cluster.config_version` in the profile: the least version to use.
    #[serde(skip)]
    pub config_version_floor: Option<u32>,
    pub install: Install,
    pub disks: Disks,
    pub networks: Vec<Network>,
    pub nodes: Vec<Node>,
    pub fence_devices: Vec<FenceDevice>,
    pub drbd: Drbd,
    pub clvm: Clvm,
    pub firstboot: Firstboot,
    pub pxe: Pxe,
}

impl Cluster {
    pub fn network(&self, role: NetRole) -> &Network {
        self.networks
            .iter()
            .find(|n| n.role == role)
            .expect("validation guarantees all three networks")
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name || n.fqdn == name)
    }

    /// The other node of the pair.
    pub fn peer_of(&self, node: &Node) -> &Node {
        self.nodes
            .iter()
            .find(|n| n.id != node.id)
            .expect("validation guarantees two nodes")
    }
}
