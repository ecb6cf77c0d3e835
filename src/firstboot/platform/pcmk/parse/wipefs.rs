//! `wipefs --json <dev>` (util-linux): every signature libblkid finds on a
//! device, each with its type and label. Nothing is wiped (no `--all`).

use crate::firstboot::error::{perr, ParseError};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Signature {
    #[serde(rename = "type")]
    pub kind: String,
    pub offset: String,
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Deserialize)]
struct Out {
    signatures: Vec<Signature>,
}

/// The signatures; empty output (older util-linux prints nothing when
/// there are none) is none.
pub fn parse(text: &str) -> Result<Vec<Signature>, ParseError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let o: Out = serde_json::from_str(text).map_err(|e| perr("wipefs --json", e.to_string()))?;
    Ok(o.signatures)
}

impl Signature {
    /// DRBD's own metadata (at the end of a backing device), which the
    /// metadata guards judge; anything else may be data.
    pub fn is_drbd_metadata(&self) -> bool {
        self.kind == "drbd"
    }

    pub fn describe(&self) -> String {
        match self.label.as_deref().filter(|l| !l.is_empty()) {
            Some(l) => format!(
                "a {} signature (label {l:?}) at offset {}",
                self.kind, self.offset
            ),
            None => format!("a {} signature at offset {}", self.kind, self.offset),
        }
    }
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
    fn signatures() {
        assert!(parse(&fixture("wipefs-none.json")).unwrap().is_empty());
        assert!(parse("").unwrap().is_empty());
        let g = parse(&fixture("wipefs-gfs2.json")).unwrap();
        assert_eq!(g[0].kind, "gfs2");
        assert_eq!(g[0].label.as_deref(), Some("an-cluster:iso_store"));
        assert_eq!(
            g[0].describe(),
            "a gfs2 signature (label \"an-cluster:iso_store\") at offset 0x10000"
        );
        let d = parse(&fixture("wipefs-drbd-md.json")).unwrap();
        assert!(d[0].is_drbd_metadata());
        // In the VM rig: the backing disk after create-md, /dev/drbd0
        // after pvcreate.
        assert!(parse(&fixture("wipefs-drbd-md-vdb.json")).unwrap()[0].is_drbd_metadata());
        let pv = parse(&fixture("wipefs-drbd0-pv.json")).unwrap();
        assert_eq!(
            (pv[0].kind.as_str(), pv[0].label.as_deref()),
            ("LVM2_member", None)
        );
        assert!(parse("{").is_err());
    }
}
