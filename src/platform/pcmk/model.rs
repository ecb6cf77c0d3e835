//! What the pacemaker platforms' clusters have beyond the neutral cluster:
//! corosync's link and token, the operation timeouts, the stonith devices
//! made from the profile's fence devices, the KVM bridges, LVM's filter and
//! the ids of the CIB's resources (which the first-boot helper's config
//! names too).

use crate::model::NetRole;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Pcmk {
    pub corosync: Corosync,
    pub timeouts: Timeouts,
    /// One stonith resource per fence device a node uses, in profile order.
    pub stonith: Vec<Stonith>,
    /// The fencing topology: each node's fence methods, in order.
    pub levels: Vec<Level>,
    /// The node (short name) that survives when the two lose each other:
    /// the only one fenced with a delay. `None` when neither or both are.
    pub survivor: Option<String>,
    /// One bridge per network (every NIC is a port of one), in interface
    /// order, for KVM guests.
    pub bridges: Vec<Bridge>,
    /// LVM's `global_filter`: DRBD's devices and the PV of the node's own
    /// VG, nothing else.
    pub lvm_filter: String,
    pub cib: Cib,
}

/// corosync 3 (knet, crypto on): one link.
#[derive(Debug, Clone, Serialize)]
pub struct Corosync {
    /// The network of its one link.
    pub network: NetRole,
    /// totem's token timeout, in milliseconds.
    pub token_ms: u32,
}

/// Seconds.
#[derive(Debug, Clone, Serialize)]
pub struct Timeouts {
    /// start, stop, promote, demote, notify; also op_defaults.
    pub op_secs: u64,
    /// monitors.
    pub monitor_secs: u64,
    /// stonith-timeout; DRBD's fence-peer handler waits as long.
    pub stonith_secs: u64,
    /// How long the first-boot helper waits for pacemaker to start everything.
    pub start_secs: u64,
}

/// A stonith resource: one fence device of the profile.
#[derive(Debug, Clone, Serialize)]
pub struct Stonith {
    /// The resource id, `fence_<device>`.
    pub id: String,
    /// The profile's device name.
    pub device: String,
    pub agent: String,
    /// Instance attributes, in the order they are written: the agent's own
    /// (ip, username, the profile's options by name, password_script),
    /// then pacemaker's (pcmk_host_list or pcmk_host_map, pcmk_delay_base,
    /// pcmk_reboot_action, pcmk_monitor_timeout).
    pub params: Vec<(String, String)>,
    /// The FQDNs of the nodes it fences.
    pub targets: Vec<String>,
    /// What SUMMARY.md and the map say about its delay, if it has one.
    pub delay: Option<String>,
}

/// One level of the fencing topology.
#[derive(Debug, Clone, Serialize)]
pub struct Level {
    pub id: String,
    /// The node's FQDN.
    pub target: String,
    /// 1 for the node's first fence method.
    pub index: usize,
    /// The stonith resources, comma-separated.
    pub devices: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bridge {
    pub role: NetRole,
    /// The NIC, the bridge's one port.
    pub interface: String,
    /// `br-<interface>`: the node's address is on it.
    pub name: String,
}

/// The CIB's resource ids (Red Hat's GFS2 layout on dual-primary DRBD).
#[derive(Debug, Clone, Serialize)]
pub struct Cib {
    /// `drbd_<resource>` and its promotable clone.
    pub drbd: String,
    pub drbd_clone: String,
    /// The cloned group of dlm and lvmlockd.
    pub locking: String,
    pub locking_clone: String,
    /// The cloned group of the shared VG's volumes, if it has any.
    pub storage: Option<Storage>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Storage {
    /// `storage_<vg>` and its clone.
    pub group: String,
    pub clone: String,
    pub volumes: Vec<StorageVolume>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StorageVolume {
    pub name: String,
    /// `lv_<name>`: ocf:heartbeat:LVM-activate, shared.
    pub lv: String,
    /// `fs_<name>`: ocf:heartbeat:Filesystem, for a GFS2 volume.
    pub fs: Option<String>,
    pub mountpoint: Option<String>,
}

impl Cib {
    /// The clones the CIB holds at `target-role=Stopped` until their
    /// storage exists (the first-boot helper starts them).
    pub fn start_after_storage(&self) -> Vec<String> {
        self.storage.iter().map(|s| s.clone.clone()).collect()
    }
}
