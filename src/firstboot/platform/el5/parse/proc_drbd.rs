//! /proc/drbd as DRBD 8.3.0 to 8.3.12 print it: the header, each minor's
//! state line, and the resync progress lines.
//!
//! Samples in the tests are verbatim from real transcripts
//! (`shared/reference/el5-tool-outputs.md`). No regex: plain string handling,
//! tolerant of the variants seen in them.

use crate::firstboot::error::{perr, ParseError};
use std::collections::BTreeMap;

/// /proc/drbd: the header and each minor.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProcDrbd {
    /// `8.3.2` from `version: 8.3.2 (api:88/proto:86-90)`.
    pub version: Option<String>,
    pub devices: Vec<DrbdDevice>,
}

/// One minor of /proc/drbd.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DrbdDevice {
    pub minor: u32,
    /// Connection state (`cs:`), e.g. `Connected`, `Unconfigured`.
    pub cs: String,
    /// Roles (`ro:`) local/peer; absent when Unconfigured.
    pub ro: Option<(String, String)>,
    /// Disk states (`ds:`) local/peer; absent when Unconfigured.
    pub ds: Option<(String, String)>,
    /// Protocol letter; `None` in StandAlone (no net config).
    pub protocol: Option<char>,
    /// Flag characters, 5 (8.3.2-8.3.8) or 6 (8.3.9+).
    pub flags: Option<String>,
    /// The counters line (`ns:`, `nr:`, ... `oos:`), values as printed.
    pub counters: BTreeMap<String, String>,
    /// Resync progress, present while SyncSource / SyncTarget.
    pub sync: Option<SyncProgress>,
}

/// The progress block of a resyncing device.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyncProgress {
    /// `sync'ed:` (or `verified:`) in per mille, e.g. 123 for 12.3%.
    pub permille: u32,
    /// Left and total, in `unit`.
    pub left: u64,
    pub total: u64,
    /// `M` or `K`.
    pub unit: char,
    /// `finish:` as printed, `h:mm:ss`.
    pub finish: Option<String>,
    /// Current and average speed, K/sec.
    pub speed_kps: Option<u64>,
    pub avg_kps: Option<u64>,
    /// `want:` (SyncTarget, 8.3.8+), K/sec.
    pub want_kps: Option<u64>,
    pub stalled: bool,
}

impl SyncProgress {
    /// `12.3% done, 350/400 M left... finish in 0:03:00 at 14400 K/sec`.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{}.{}% synced ({}/{}{} left)",
            self.permille / 10,
            self.permille % 10,
            self.left,
            self.total,
            self.unit
        );
        if self.stalled {
            s.push_str(", stalled");
        }
        if let Some(f) = &self.finish {
            s.push_str(&format!(", estimated finish in {f}"));
        }
        if let Some(k) = self.speed_kps {
            s.push_str(&format!(", {k} K/sec"));
        }
        if let Some(k) = self.avg_kps {
            s.push_str(&format!(" (average {k} K/sec)"));
        }
        s
    }
}

/// Connection states in which the two nodes talk to each other.
pub const CONNECTED_STATES: &[&str] = &[
    "Connected",
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
];

impl DrbdDevice {
    pub fn is_configured(&self) -> bool {
        self.cs != "Unconfigured"
    }
    pub fn is_connected(&self) -> bool {
        CONNECTED_STATES.contains(&self.cs.as_str())
    }
    pub fn is_syncing(&self) -> bool {
        matches!(
            self.cs.as_str(),
            "SyncSource" | "SyncTarget" | "PausedSyncS" | "PausedSyncT"
        )
    }
    /// Whether `drbdadm primary` on this side calls no fence-peer handler
    /// and serves current data: connected to the peer, and either both
    /// disks UpToDate or a resync running (the source has the data, the
    /// target reads what it lacks from the source).
    pub fn promotable(&self) -> bool {
        match self.cs.as_str() {
            "Connected" => self.local_disk() == "UpToDate" && self.peer_disk() == "UpToDate",
            _ => self.is_syncing(),
        }
    }
    pub fn local_role(&self) -> &str {
        self.ro.as_ref().map(|r| r.0.as_str()).unwrap_or("Unknown")
    }
    pub fn peer_role(&self) -> &str {
        self.ro.as_ref().map(|r| r.1.as_str()).unwrap_or("Unknown")
    }
    pub fn local_disk(&self) -> &str {
        self.ds.as_ref().map(|d| d.0.as_str()).unwrap_or("Diskless")
    }
    pub fn peer_disk(&self) -> &str {
        self.ds.as_ref().map(|d| d.1.as_str()).unwrap_or("DUnknown")
    }
    /// `cs:Connected ro:Primary/Primary ds:UpToDate/UpToDate`.
    pub fn summary(&self) -> String {
        match (&self.ro, &self.ds) {
            (Some(ro), Some(ds)) => {
                format!("cs:{} ro:{}/{} ds:{}/{}", self.cs, ro.0, ro.1, ds.0, ds.1)
            }
            _ => format!("cs:{}", self.cs),
        }
    }
}

impl ProcDrbd {
    pub fn device(&self, minor: u32) -> Option<&DrbdDevice> {
        self.devices.iter().find(|d| d.minor == minor)
    }
}

/// Parses /proc/drbd. Accepts 5 or 6 flag characters, `GIT-hash:` or
/// `srcversion:`, blank lines, the three spaces of StandAlone, progress
/// printed with or without the newline before `finish:`, and a device line
/// without the leading space.
pub fn parse_proc_drbd(text: &str) -> Result<ProcDrbd, ParseError> {
    let mut out = ProcDrbd::default();
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with("GIT-hash:") || line.starts_with("srcversion:") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("version:") {
            out.version = rest.split_whitespace().next().map(str::to_string);
            continue;
        }
        if let Some((minor, rest)) = device_line(line) {
            out.devices.push(parse_device_line(minor, rest)?);
            continue;
        }
        let Some(dev) = out.devices.last_mut() else {
            return Err(perr("/proc/drbd", format!("unexpected line {line:?}")));
        };
        if line.starts_with("ns:") {
            for tok in line.split_whitespace() {
                if let Some((k, v)) = tok.split_once(':') {
                    dev.counters.insert(k.to_string(), v.to_string());
                }
            }
            continue;
        }
        if line.contains("sync'ed:") || line.contains("verified:") {
            let p = dev.sync.get_or_insert_with(SyncProgress::default);
            parse_progress_head(line, p)?;
            if line.contains("finish:") {
                parse_progress_tail(line, p);
            }
            continue;
        }
        if line.contains("finish:") || line == "stalled" {
            let p = dev.sync.get_or_insert_with(SyncProgress::default);
            parse_progress_tail(line, p);
            continue;
        }
        // Verify progress of 8.3.2 (`  3%      12/400`) and anything newer
        // DRBD may add: ignored.
    }
    Ok(out)
}

/// `0: cs:...` (with or without leading spaces) -> (0, "cs:...").
fn device_line(line: &str) -> Option<(u32, &str)> {
    let (num, rest) = line.split_once(':')?;
    if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let rest = rest.trim_start();
    if !rest.starts_with("cs:") {
        return None;
    }
    Some((num.parse().ok()?, rest))
}

fn parse_device_line(minor: u32, rest: &str) -> Result<DrbdDevice, ParseError> {
    let mut dev = DrbdDevice {
        minor,
        ..Default::default()
    };
    let mut toks = rest.split_whitespace();
    let cs = toks
        .next()
        .and_then(|t| t.strip_prefix("cs:"))
        .ok_or_else(|| perr("/proc/drbd", format!("no cs: in {rest:?}")))?;
    dev.cs = cs.to_string();
    for tok in toks {
        if let Some(v) = tok.strip_prefix("ro:") {
            dev.ro = Some(pair(v, "ro")?);
        } else if let Some(v) = tok.strip_prefix("ds:") {
            dev.ds = Some(pair(v, "ds")?);
        } else if tok.len() == 1 && matches!(tok, "A" | "B" | "C") {
            dev.protocol = tok.chars().next();
        } else if tok.starts_with(['r', 's'])
            && tok[1..].chars().all(|c| c == '-' || c.is_ascii_lowercase())
        {
            dev.flags = Some(tok.to_string());
        }
    }
    if dev.cs != "Unconfigured" && (dev.ro.is_none() || dev.ds.is_none()) {
        return Err(perr(
            "/proc/drbd",
            format!("device line without ro:/ds: {rest:?}"),
        ));
    }
    Ok(dev)
}

fn pair(v: &str, what: &str) -> Result<(String, String), ParseError> {
    let (a, b) = v
        .split_once('/')
        .ok_or_else(|| perr("/proc/drbd", format!("{what}:{v} is not a/b")))?;
    Ok((a.to_string(), b.to_string()))
}

/// `[==>....] sync'ed: 12.3% (2637836/2666636)K` (maybe followed by
/// `finish: ...` on the same line).
fn parse_progress_head(line: &str, p: &mut SyncProgress) -> Result<(), ParseError> {
    let key = if line.contains("sync'ed:") {
        "sync'ed:"
    } else {
        "verified:"
    };
    let after = line.split_once(key).map(|x| x.1).unwrap_or("").trim_start();
    let (pct, rest) = after
        .split_once('%')
        .ok_or_else(|| perr("/proc/drbd progress", line.to_string()))?;
    let pct = pct.trim();
    let (int, frac) = pct.split_once('.').unwrap_or((pct, "0"));
    let int: u32 = int
        .parse()
        .map_err(|_| perr("/proc/drbd progress", format!("percent {pct:?}")))?;
    let frac: u32 = frac
        .chars()
        .next()
        .and_then(|c| c.to_digit(10))
        .unwrap_or(0);
    p.permille = int * 10 + frac;
    if let Some(open) = rest.find('(') {
        let inner = &rest[open + 1..];
        if let Some(close) = inner.find(')') {
            if let Some((l, t)) = inner[..close].split_once('/') {
                p.left = l.trim().parse().unwrap_or(0);
                p.total = t.trim().parse().unwrap_or(0);
            }
            p.unit = inner[close + 1..].chars().next().unwrap_or('K');
        }
    }
    Ok(())
}

/// `finish: 0:03:00 speed: 14,400 (14,400) want: 10,240 K/sec (stalled)`.
fn parse_progress_tail(line: &str, p: &mut SyncProgress) {
    if line.trim() == "stalled" || line.contains("(stalled)") {
        p.stalled = true;
    }
    if let Some(rest) = line.split_once("finish:").map(|x| x.1) {
        p.finish = rest.split_whitespace().next().map(str::to_string);
    }
    if let Some(rest) = line.split_once("speed:").map(|x| x.1) {
        let mut toks = rest.split_whitespace();
        p.speed_kps = toks.next().and_then(num_commas);
        p.avg_kps = toks
            .next()
            .map(|t| t.trim_start_matches('(').trim_end_matches(')'))
            .and_then(num_commas);
    }
    if let Some(rest) = line.split_once("want:").map(|x| x.1) {
        p.want_kps = rest.split_whitespace().next().and_then(num_commas);
    }
}

fn num_commas(s: &str) -> Option<u64> {
    s.replace(',', "").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Samples verbatim from el5-tool-outputs.md.

    const CENTOS_8312_CONNECTED: &str = "version: 8.3.12 (api:88/proto:86-96)
GIT-hash: e2a8ef4656be026bbae540305fcb998a5991090f build by mockbuild@builder10.centos.org, 2012-01-28 13:52:25

 1: cs:Connected ro:Secondary/Secondary ds:Inconsistent/Inconsistent C r-----
    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:b oos:2666636
";

    const CENTOS_8312_SYNCSOURCE: &str =
        " 1: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----
    ns:29696 nr:0 dw:0 dr:29696 al:0 bm:1 lo:0 pe:7 ua:0 ap:0 ep:1 wo:b oos:2637836
    [>....................] sync'ed:  1.3% (2637836/2666636)K
    finish: 0:03:00 speed: 14,400 (14,400) K/sec
";

    const CENTOS_8312_SYNCTARGET: &str =
        "1: cs:SyncTarget ro:Secondary/Primary ds:Inconsistent/UpToDate C r-----
    ns:0 nr:1328128 dw:1328128 dr:0 al:0 bm:81 lo:0 pe:8 ua:0 ap:0 ep:1 wo:b oos:1338508
    [=========>..........] sync'ed: 50.0% (1338508/2666636)K
    finish: 0:02:10 speed: 10,224 (10,216) want: 10,240 K/sec
";

    const LINBIT_830: &str = "version: 8.3.0 (api:88/proto:86-89)
GIT-hash: 9ba8b93e24d842f0dd3fb1f9b90e8348ddb95829 build by buildsystem@linbit, 2008-12-18 16:02:26
 1: cs:Connected ro:Secondary/Secondary ds:Inconsistent/Inconsistent C r---
    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:b oos:200768
";

    const UBUNTU_8311_RUNTOGETHER: &str = "version: 8.3.11 (api:88/proto:86-96)
srcversion: 71955441799F513ACA6DA60 
 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----
    ns:69504 nr:0 dw:0 dr:70168 al:0 bm:4 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:5173180
    [>....................] sync'ed:  1.5% (5048/5116)Mfinish: 1:04:20 speed: 1,336 (1,284) K/sec
";

    const STANDALONE_846: &str = " 1: cs:StandAlone ro:Primary/Unknown ds:UpToDate/Inconsistent   r-----
    ns:72181000 nr:484 dw:71846132 dr:42275122 al:803 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:40448716
";

    const WFCONNECTION_846: &str =
        " 1: cs:WFConnection ro:Secondary/Unknown ds:Inconsistent/DUnknown C r-----
    ns:484 nr:72025332 dw:72025816 dr:9301 al:6 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:40448704
";

    const UNCONFIGURED: &str = " 0: cs:Unconfigured\n";

    const PRIMARY_PRIMARY_832: &str =
        " 0: cs:Connected ro:Primary/Primary ds:UpToDate/UpToDate C r----
    ns:1052 nr:1048 dw:2100 dr:5312 al:2 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:b oos:0
";

    const SPLIT_BRAIN_832: &str =
        " 0: cs:StandAlone ro:Primary/Unknown ds:UpToDate/DUnknown   r----
    ns:0 nr:0 dw:4 dr:536 al:1 bm:1 lo:0 pe:0 ua:0 ap:0 ep:1 wo:b oos:4
";

    const SEED_832: &str = "version: 8.3.2 (api:88/proto:86-90)
GIT-hash: dd7985327f146f33b86d4bff5ca8c94234ce840e build by mockbuild@v20z-x86-64.home.local, 2009-08-29 14:08:07
0: cs:Connected ro:Primary/Primary ds:UpToDate/UpToDate C r---
   ns:524288 nr:0 dw:0 dr:524288 al:0 bm:127 lo:0 pe:0 ua:0 ap:0 ep:1 wo:b oos:0
";

    #[test]
    fn proc_drbd_8312_connected_six_flags() {
        let p = parse_proc_drbd(CENTOS_8312_CONNECTED).unwrap();
        assert_eq!(p.version.as_deref(), Some("8.3.12"));
        let d = p.device(1).unwrap();
        assert_eq!(d.cs, "Connected");
        assert_eq!(d.local_role(), "Secondary");
        assert_eq!(d.ds, Some(("Inconsistent".into(), "Inconsistent".into())));
        assert_eq!(d.protocol, Some('C'));
        assert_eq!(d.flags.as_deref(), Some("r-----"));
        assert_eq!(d.counters["oos"], "2666636");
        assert!(d.is_connected() && !d.is_syncing());
        assert!(d.sync.is_none());
    }

    #[test]
    fn proc_drbd_sync_source_and_target() {
        let s = parse_proc_drbd(CENTOS_8312_SYNCSOURCE).unwrap();
        let d = s.device(1).unwrap();
        assert!(d.is_syncing());
        let p = d.sync.as_ref().unwrap();
        assert_eq!(p.permille, 13);
        assert_eq!((p.left, p.total, p.unit), (2637836, 2666636, 'K'));
        assert_eq!(p.finish.as_deref(), Some("0:03:00"));
        assert_eq!((p.speed_kps, p.avg_kps), (Some(14400), Some(14400)));
        assert!(!p.stalled);

        // The peer's copy lost the leading space before "1:".
        let t = parse_proc_drbd(CENTOS_8312_SYNCTARGET).unwrap();
        let d = t.device(1).unwrap();
        assert_eq!(d.cs, "SyncTarget");
        assert_eq!(d.peer_role(), "Primary");
        let p = d.sync.as_ref().unwrap();
        assert_eq!(p.permille, 500);
        assert_eq!(p.finish.as_deref(), Some("0:02:10"));
        assert_eq!(
            (p.speed_kps, p.avg_kps, p.want_kps),
            (Some(10224), Some(10216), Some(10240))
        );
    }

    #[test]
    fn proc_drbd_830_five_flags_no_blank_line() {
        // 8.3.0/8.3.2 print 5 flag characters (`r----`); this 8.3.0 sample
        // even shows 4.
        let p = parse_proc_drbd(LINBIT_830).unwrap();
        let d = p.device(1).unwrap();
        assert_eq!(d.flags.as_deref(), Some("r---"));
        let p = parse_proc_drbd(PRIMARY_PRIMARY_832).unwrap();
        let d = p.device(0).unwrap();
        assert_eq!(d.flags.as_deref(), Some("r----"));
        assert_eq!(
            d.summary(),
            "cs:Connected ro:Primary/Primary ds:UpToDate/UpToDate"
        );
    }

    #[test]
    fn proc_drbd_srcversion_and_run_together_finish() {
        let p = parse_proc_drbd(UBUNTU_8311_RUNTOGETHER).unwrap();
        assert_eq!(p.version.as_deref(), Some("8.3.11"));
        let d = p.device(0).unwrap();
        let s = d.sync.as_ref().unwrap();
        assert_eq!(s.permille, 15);
        assert_eq!((s.left, s.total, s.unit), (5048, 5116, 'M'));
        assert_eq!(s.finish.as_deref(), Some("1:04:20"));
        assert_eq!((s.speed_kps, s.avg_kps), (Some(1336), Some(1284)));
    }

    #[test]
    fn proc_drbd_standalone_three_spaces() {
        let p = parse_proc_drbd(STANDALONE_846).unwrap();
        let d = p.device(1).unwrap();
        assert_eq!(d.cs, "StandAlone");
        assert_eq!(d.protocol, None);
        assert_eq!(d.flags.as_deref(), Some("r-----"));
        assert_eq!(d.peer_disk(), "Inconsistent");
        assert!(!d.is_connected());
        let p = parse_proc_drbd(SPLIT_BRAIN_832).unwrap();
        let d = p.device(0).unwrap();
        assert_eq!((d.cs.as_str(), d.protocol), ("StandAlone", None));
        assert_eq!(d.peer_disk(), "DUnknown");
    }

    #[test]
    fn proc_drbd_wfconnection_and_unconfigured() {
        let p = parse_proc_drbd(WFCONNECTION_846).unwrap();
        let d = p.device(1).unwrap();
        assert_eq!((d.cs.as_str(), d.peer_role()), ("WFConnection", "Unknown"));
        let p = parse_proc_drbd(UNCONFIGURED).unwrap();
        let d = p.device(0).unwrap();
        assert!(!d.is_configured());
        assert_eq!(d.ro, None);
        assert_eq!(d.summary(), "cs:Unconfigured");
    }

    #[test]
    fn proc_drbd_seed_sample_without_leading_space() {
        let p = parse_proc_drbd(SEED_832).unwrap();
        let d = p.device(0).unwrap();
        assert_eq!(d.local_role(), "Primary");
        assert_eq!(d.peer_role(), "Primary");
        assert_eq!(d.flags.as_deref(), Some("r---"));
    }

    #[test]
    fn proc_drbd_stalled_variants() {
        // 8.3.2: "stalled" replaces the speed line.
        let t = " 0: cs:SyncTarget ro:Secondary/Primary ds:Inconsistent/UpToDate C r----
    ns:0 nr:8 dw:8 dr:0 al:0 bm:1 lo:0 pe:0 ua:0 ap:0 ep:1 wo:b oos:400
\t[>....................] sync'ed:  0.1% (400/401)M
\tstalled
";
        let p = parse_proc_drbd(t).unwrap();
        assert!(p.device(0).unwrap().sync.as_ref().unwrap().stalled);
        // 8.3.9+: "K/sec (stalled)".
        let t = " 0: cs:SyncTarget ro:Secondary/Primary ds:Inconsistent/UpToDate C r-----
    ns:0 nr:8 dw:8 dr:0 al:0 bm:1 lo:0 pe:0 ua:0 ap:0 ep:1 wo:b oos:400
\t[>....................] sync'ed:  0.1% (400/401)M
\tfinish: 0:00:00 speed: 0 (12) want: 10,240 K/sec (stalled)
";
        let s = parse_proc_drbd(t).unwrap().devices[0].sync.clone().unwrap();
        assert!(s.stalled);
        assert_eq!((s.speed_kps, s.avg_kps), (Some(0), Some(12)));
    }

    #[test]
    fn proc_drbd_rejects_garbage() {
        assert!(parse_proc_drbd("hello\n").is_err());
        assert!(parse_proc_drbd(" 0: cs:Connected\n").is_err());
    }
}
