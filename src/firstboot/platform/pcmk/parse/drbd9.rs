//! `drbdsetup status <res> --json` of DRBD 9 (el9, ELRepo's kmod-drbd9x):
//! the resource's role, its first volume's disk state, the connection to
//! the one peer. The keys are drbd-utils 9's (`drbdsetup status --json`);
//! the fixtures follow LINBIT's format (no DRBD 9 module runs here: see
//! tests/fixtures/INDEX).

use super::{DrbdState, SyncProgress};
use crate::firstboot::error::{perr, ParseError};
use serde::Deserialize;

const WHAT: &str = "drbdsetup status --json";

#[derive(Deserialize)]
struct Resource {
    name: String,
    role: String,
    #[serde(default)]
    devices: Vec<Device>,
    #[serde(default)]
    connections: Vec<Connection>,
}

#[derive(Deserialize)]
struct Device {
    #[serde(rename = "disk-state")]
    disk_state: String,
}

#[derive(Deserialize)]
struct Connection {
    #[serde(rename = "connection-state")]
    connection_state: String,
    #[serde(rename = "peer-role")]
    peer_role: String,
    #[serde(default)]
    peer_devices: Vec<PeerDevice>,
}

#[derive(Deserialize)]
struct PeerDevice {
    #[serde(rename = "replication-state")]
    replication_state: String,
    #[serde(rename = "peer-disk-state")]
    peer_disk_state: String,
    #[serde(rename = "percent-in-sync", default)]
    percent_in_sync: Option<f64>,
}

/// The state of resource `res`, or None when it is not up (not listed).
pub fn parse(text: &str, res: &str) -> Result<Option<DrbdState>, ParseError> {
    let all: Vec<Resource> = serde_json::from_str(text).map_err(|e| perr(WHAT, e.to_string()))?;
    let Some(r) = all.into_iter().find(|r| r.name == res) else {
        return Ok(None);
    };
    let disk = r
        .devices
        .first()
        .map(|d| d.disk_state.clone())
        .unwrap_or_else(|| "Diskless".into());
    let mut st = DrbdState {
        cs: "StandAlone".into(),
        role: r.role,
        peer_role: "Unknown".into(),
        disk,
        peer_disk: "DUnknown".into(),
        sync: None,
    };
    if let Some(c) = r.connections.first() {
        st.peer_role = c.peer_role.clone();
        st.cs = c.connection_state.clone();
        if let Some(pd) = c.peer_devices.first() {
            st.peer_disk = pd.peer_disk_state.clone();
            if c.connection_state == "Connected" {
                st.cs = match pd.replication_state.as_str() {
                    "Established" => "Connected".into(),
                    other => other.to_string(),
                };
            }
            if st.is_syncing() {
                let pct = pd.percent_in_sync.unwrap_or(0.0).clamp(0.0, 100.0);
                st.sync = Some(SyncProgress {
                    permille: (pct * 10.0).round() as u32,
                    detail: String::new(),
                });
            }
        }
    }
    Ok(Some(st))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/pcmk/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn primary_primary_and_sync() {
        let st = parse(&fixture("drbdsetup-status-9-primary-primary.json"), "r0")
            .unwrap()
            .unwrap();
        assert_eq!(
            st.summary(),
            "cs:Connected ro:Primary/Primary ds:UpToDate/UpToDate"
        );
        let st = parse(&fixture("drbdsetup-status-9-sync.json"), "r0")
            .unwrap()
            .unwrap();
        assert_eq!(st.cs, "SyncSource");
        assert_eq!(st.sync.map(|s| s.permille), Some(372));
        let st = parse(&fixture("drbdsetup-status-9-connecting.json"), "r0")
            .unwrap()
            .unwrap();
        assert_eq!(st.cs, "Connecting");
        assert!(!st.is_connected());
        assert_eq!(parse("[]", "r0").unwrap(), None);
        assert!(parse("r0: No such resource", "r0").is_err());
    }
}
