//! DRBD metadata as drbd-utils 9 prints it: `drbdadm dump-md` (v08 for
//! DRBD 8.4, v09 for DRBD 9) and `drbdadm get-gi`. What the guards need:
//! is there metadata, and is it brand new (just made by create-md: current
//! UUID 4, every other UUID zero) or does it carry a data history.

use crate::firstboot::error::{perr, ParseError};

/// drbdmeta's UUID for metadata create-md just wrote.
pub const UUID_JUST_CREATED: u64 = 4;

/// The data generation UUIDs found in metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uuids {
    pub current: u64,
    /// Bitmap and history UUIDs (v08: 3; v09: one bitmap UUID per peer
    /// slot and the history slots).
    pub others: Vec<u64>,
}

impl Uuids {
    pub fn is_brand_new(&self) -> bool {
        self.current == UUID_JUST_CREATED && self.others.iter().all(|u| *u == 0)
    }

    pub fn line(&self) -> String {
        let mut s = format!("{:016X}", self.current);
        for u in &self.others {
            s.push_str(&format!(":{u:016X}"));
        }
        s
    }
}

/// `dump-md`'s verdict when the command failed: no metadata at all.
pub fn says_no_metadata(output: &str) -> bool {
    output.contains("No valid meta data found")
}

fn hex_values(s: &str) -> Vec<u64> {
    s.split(|c: char| c == ';' || c.is_whitespace())
        .filter_map(|t| t.strip_prefix("0x"))
        .filter_map(|h| u64::from_str_radix(h, 16).ok())
        .collect()
}

/// `drbdadm dump-md <res>` (exit 0): v08's `uuid { current; bitmap;
/// history; history; flags }`, or v09's `current-uuid`, each peer slot's
/// `bitmap-uuid` and `history-uuids { ... }`.
pub fn parse_dump_md(text: &str) -> Result<Uuids, ParseError> {
    const WHAT: &str = "drbdadm dump-md";
    let mut lines = text.lines().map(str::trim);
    let version = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("version "))
        .ok_or_else(|| perr(WHAT, "no `version` line"))?;
    if version.starts_with("\"v08\"") {
        lines
            .find(|l| l.starts_with("uuid {"))
            .ok_or_else(|| perr(WHAT, "v08 without a uuid block"))?;
        let vals = hex_values(lines.next().unwrap_or(""));
        if vals.len() != 4 {
            return Err(perr(
                WHAT,
                format!("v08 uuid block has {} values", vals.len()),
            ));
        }
        return Ok(Uuids {
            current: vals[0],
            others: vals[1..].to_vec(),
        });
    }
    if version.starts_with("\"v09\"") {
        let mut current = None;
        let mut others = Vec::new();
        let mut in_history = false;
        for l in text.lines().map(str::trim) {
            if let Some(v) = l.strip_prefix("current-uuid ") {
                current = hex_values(v).first().copied();
            } else if let Some(v) = l.strip_prefix("bitmap-uuid ") {
                others.extend(hex_values(v));
            } else if l.starts_with("history-uuids {") {
                in_history = true;
            } else if in_history && l.starts_with('}') {
                in_history = false;
            } else if in_history {
                others.extend(hex_values(l));
            }
        }
        let current = current.ok_or_else(|| perr(WHAT, "v09 without current-uuid"))?;
        return Ok(Uuids { current, others });
    }
    Err(perr(WHAT, format!("unknown metadata version {version}")))
}

/// `drbdadm get-gi <res>`: `current:bitmap:history:history:flags...`
/// (v08: 4 UUIDs then 7 flags; v09: the same 4 UUIDs for the peer, then
/// more flags).
pub fn parse_gi(text: &str) -> Result<Uuids, ParseError> {
    const WHAT: &str = "drbdadm get-gi";
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .ok_or_else(|| perr(WHAT, "empty output"))?;
    let parts: Vec<&str> = line.split(':').collect();
    if parts.len() < 4 || parts[..4].iter().any(|p| p.len() != 16) {
        return Err(perr(WHAT, format!("unexpected line {line:?}")));
    }
    let mut uuids = Vec::new();
    for p in &parts[..4] {
        uuids.push(u64::from_str_radix(p, 16).map_err(|_| perr(WHAT, format!("UUID {p:?}")))?);
    }
    Ok(Uuids {
        current: uuids[0],
        others: uuids[1..].to_vec(),
    })
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
    fn dump_md_v08_and_v09() {
        assert!(parse_dump_md(&fixture("dump-md-v08-new.txt"))
            .unwrap()
            .is_brand_new());
        let h = parse_dump_md(&fixture("dump-md-v08-history.txt")).unwrap();
        assert!(!h.is_brand_new());
        assert_eq!(h.current, 0x8A3C_5D21_0000_1234);
        let v9 = parse_dump_md(&fixture("dump-md-v09-new.txt")).unwrap();
        assert!(v9.is_brand_new());
        assert!(v9.others.len() > 32, "{}", v9.others.len());
        assert!(says_no_metadata(&fixture("dump-md-none.txt")));
        assert!(parse_dump_md("garbage").is_err());
    }

    #[test]
    fn get_gi_v08_and_v09() {
        let h = parse_gi(&fixture("get-gi-v08-history.txt")).unwrap();
        assert!(!h.is_brand_new());
        assert!(parse_gi(&fixture("get-gi-v09-new.txt"))
            .unwrap()
            .is_brand_new());
        // In the VM rig, DRBD 8.4 up: brand new while connected, a history
        // after the full sync.
        assert!(parse_gi(&fixture("get-gi-84-connected-new.txt"))
            .unwrap()
            .is_brand_new());
        assert!(!parse_gi(&fixture("get-gi-84-synced.txt"))
            .unwrap()
            .is_brand_new());
        assert!(parse_gi("").is_err());
        assert!(parse_gi("4:0:0:0:0").is_err());
    }
}
