//! /proc/drbd of DRBD 8.4 (Debian 12's kernel module): one minor's line,
//! and the resync lines under it while one runs. A minor that is down is
//! not listed at all (8.4 creates minors on `up` and deletes them on
//! `down`).

use super::{DrbdState, SyncProgress};
use crate::firstboot::error::{perr, ParseError};

const WHAT: &str = "/proc/drbd";

/// The state of `minor`, or None when it is not listed (down).
pub fn parse(text: &str, minor: u32) -> Result<Option<DrbdState>, ParseError> {
    if !text.starts_with("version: ") {
        return Err(perr(WHAT, "no `version:` line"));
    }
    let prefix = format!("{minor}:");
    let mut lines = text
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with(&prefix));
    let Some(line) = lines.next() else {
        return Ok(None);
    };
    let mut st = DrbdState::default();
    for tok in line.split_whitespace() {
        if let Some(v) = tok.strip_prefix("cs:") {
            st.cs = v.to_string();
        } else if let Some(v) = tok.strip_prefix("ro:") {
            let (a, b) = v.split_once('/').unwrap_or((v, "Unknown"));
            (st.role, st.peer_role) = (a.to_string(), b.to_string());
        } else if let Some(v) = tok.strip_prefix("ds:") {
            let (a, b) = v.split_once('/').unwrap_or((v, "DUnknown"));
            (st.disk, st.peer_disk) = (a.to_string(), b.to_string());
        }
    }
    if st.cs.is_empty() {
        return Err(perr(WHAT, format!("minor {minor}: no cs: in {line:?}")));
    }
    if st.cs == "Unconfigured" {
        return Ok(None);
    }
    // The resync lines follow the minor's statistics line, before the next
    // minor.
    let mut sync: Option<SyncProgress> = None;
    for l in lines.take_while(|l| !l.chars().next().is_some_and(|c| c.is_ascii_digit())) {
        if let Some(rest) = l.split("sync'ed:").nth(1) {
            let rest = rest.trim();
            let pct = rest.split('%').next().unwrap_or("").trim();
            let permille = parse_permille(pct)
                .ok_or_else(|| perr(WHAT, format!("resync percentage {pct:?}")))?;
            let left = rest.split_once('%').map(|x| x.1.trim()).unwrap_or("");
            sync = Some(SyncProgress {
                permille,
                detail: format!("left/total {left}"),
            });
        } else if let (Some(s), true) = (sync.as_mut(), l.starts_with("finish:")) {
            s.detail = format!(
                "{}, {}",
                s.detail,
                l.split_whitespace().collect::<Vec<_>>().join(" ")
            );
        }
    }
    st.sync = sync.filter(|_| st.is_syncing());
    Ok(Some(st))
}

/// `25.0` -> 250.
fn parse_permille(pct: &str) -> Option<u32> {
    let (int, frac) = pct.split_once('.').unwrap_or((pct, "0"));
    let int: u32 = int.trim().parse().ok()?;
    let frac: u32 = frac.chars().next()?.to_digit(10)?;
    Some((int * 10 + frac).min(1000))
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
    fn connected_primary_primary() {
        let st = parse(&fixture("proc-drbd-84-primary-primary.txt"), 0)
            .unwrap()
            .unwrap();
        assert_eq!(
            st.summary(),
            "cs:Connected ro:Primary/Primary ds:UpToDate/UpToDate"
        );
        assert!(st.is_connected() && !st.is_syncing() && st.sync.is_none());
    }

    #[test]
    fn a_minor_that_is_down_is_not_listed() {
        assert_eq!(parse(&fixture("proc-drbd-84-down.txt"), 0).unwrap(), None);
    }

    #[test]
    fn waiting_for_the_peer_then_synced() {
        let st = parse(&fixture("proc-drbd-84-wfconnection.txt"), 0)
            .unwrap()
            .unwrap();
        assert_eq!(
            st.summary(),
            "cs:WFConnection ro:Secondary/Unknown ds:Inconsistent/DUnknown"
        );
        assert!(!st.is_connected());
        let st = parse(&fixture("proc-drbd-84-synced.txt"), 0)
            .unwrap()
            .unwrap();
        assert_eq!(
            st.summary(),
            "cs:Connected ro:Secondary/Secondary ds:UpToDate/UpToDate"
        );
    }

    #[test]
    fn resync_progress() {
        let st = parse(&fixture("proc-drbd-84-sync.txt"), 0)
            .unwrap()
            .unwrap();
        assert!(st.is_syncing(), "{st:?}");
        assert_eq!(st.cs, "SyncSource");
        let s = st.sync.expect("sync");
        assert_eq!(s.permille, 4, "{s:?}");
        assert!(s.detail.contains("finish:"), "{s:?}");
    }

    #[test]
    fn not_proc_drbd() {
        assert!(parse("", 0).is_err());
        assert!(parse(
            "version: 8.4.11 (api:1/proto:86-101)\n 0: ro:Primary/Primary\n",
            0
        )
        .is_err());
    }
}
