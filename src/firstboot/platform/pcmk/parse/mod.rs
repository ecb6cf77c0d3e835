//! What the pacemaker family's tools print, parsed. Each parser is tested
//! on real output (tests/fixtures/pcmk/, INDEX says where each came from).
//!
//! - [`crm_mon`]: `crm_mon --one-shot --inactive --output-as=xml`;
//! - [`quorumtool`]: `corosync-quorumtool -s`;
//! - [`cib`]: the CIB document the build wrote, and `cibadmin --query`;
//! - [`drbd84`]: /proc/drbd of DRBD 8.4; [`drbd9`]: `drbdsetup status
//!   --json` of DRBD 9; both give a [`DrbdState`];
//! - [`drbdmeta`]: `drbdadm dump-md` (v08 and v09) and `drbdadm get-gi`;
//! - [`wipefs`]: `wipefs --json`, the signatures on a device.

pub mod cib;
pub mod crm_mon;
pub mod drbd84;
pub mod drbd9;
pub mod drbdmeta;
pub mod quorumtool;
pub mod wipefs;

/// One DRBD resource's state on this node, whatever the generation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DrbdState {
    /// Connection (and replication) state, 8.4 style: `StandAlone`,
    /// `WFConnection`/`Connecting`, `Connected`, `SyncSource`, ...
    pub cs: String,
    pub role: String,
    pub peer_role: String,
    pub disk: String,
    pub peer_disk: String,
    /// Resync progress while one runs.
    pub sync: Option<SyncProgress>,
}

/// How far a resync is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyncProgress {
    /// In sync, per mille.
    pub permille: u32,
    /// What 8.4 prints about it (left, finish, speed); empty on 9.
    pub detail: String,
}

/// Connection states in which the peers talk (8.4 names; DRBD 9's
/// replication states are the same words).
const CONNECTED: &[&str] = &[
    "Connected",
    "Established",
    "StartingSyncS",
    "StartingSyncT",
    "WFBitMapS",
    "WFBitMapT",
    "WFSyncUUID",
    "SyncSource",
    "SyncTarget",
    "PausedSyncS",
    "PausedSyncT",
    "VerifyS",
    "VerifyT",
    "Ahead",
    "Behind",
];

impl DrbdState {
    pub fn is_connected(&self) -> bool {
        CONNECTED.contains(&self.cs.as_str())
    }

    pub fn is_syncing(&self) -> bool {
        self.cs.contains("Sync") && self.cs != "WFSyncUUID"
    }

    /// One line for logs: `cs:Connected ro:Primary/Primary ds:UpToDate/UpToDate`.
    pub fn summary(&self) -> String {
        format!(
            "cs:{} ro:{}/{} ds:{}/{}",
            self.cs, self.role, self.peer_role, self.disk, self.peer_disk
        )
    }
}

impl SyncProgress {
    pub fn describe(&self) -> String {
        let pct = format!("{}.{}% in sync", self.permille / 10, self.permille % 10);
        if self.detail.is_empty() {
            pct
        } else {
            format!("{pct}, {}", self.detail)
        }
    }
}
