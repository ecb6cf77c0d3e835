//! Parsers for the EL5 tools' output, exactly as
//! `shared/reference/el5-tool-outputs.md` gives it: /proc/drbd (8.3.2 to
//! 8.3.12), `drbdadm get-gi` / `dump-md`, `cman_tool status` / `nodes`,
//! `pvs` / `vgs` / `lvs --noheadings`, `gfs2_tool sb`, `chkconfig --list`,
//! /proc/mounts and /etc/fstab. No regex: plain string handling, tolerant of
//! the variants seen in real transcripts.

use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("cannot parse {what}: {detail}")]
pub struct ParseError {
    pub what: &'static str,
    pub detail: String,
}

fn perr(what: &'static str, detail: impl Into<String>) -> ParseError {
    ParseError {
        what,
        detail: detail.into(),
    }
}

// ---------------------------------------------------------------- /proc/drbd

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

// ------------------------------------------------------------ get-gi, dump-md

/// DRBD data generation identifiers: 4 UUIDs (current, bitmap, history 1
/// and 2) and, from get-gi, 7 flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gi {
    pub uuids: [u64; 4],
    pub flags: Option<[u8; 7]>,
}

/// `UUID_JUST_CREATED`: the current UUID drbdmeta create-md writes.
pub const UUID_JUST_CREATED: u64 = 4;

impl Gi {
    /// Brand-new metadata: current UUID 4 and no bitmap or history UUIDs.
    pub fn is_brand_new(&self) -> bool {
        self.uuids[0] == UUID_JUST_CREATED && self.uuids[1..].iter().all(|u| *u == 0)
    }

    /// The get-gi line (`%016llX` UUIDs, flags as digits).
    pub fn line(&self) -> String {
        let mut s = self
            .uuids
            .iter()
            .map(|u| format!("{u:016X}"))
            .collect::<Vec<_>>()
            .join(":");
        let flags = self.flags.unwrap_or([0; 7]);
        for f in flags {
            s.push_str(&format!(":{f}"));
        }
        s
    }
}

/// Parses `drbdadm get-gi` output: 11 colon-separated fields.
pub fn parse_gi(text: &str) -> Result<Gi, ParseError> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .ok_or_else(|| perr("get-gi", "empty output"))?;
    let fields: Vec<&str> = line.split(':').collect();
    if fields.len() != 11 {
        return Err(perr(
            "get-gi",
            format!("{} fields in {line:?}, want 11", fields.len()),
        ));
    }
    let mut uuids = [0u64; 4];
    for (i, f) in fields[..4].iter().enumerate() {
        uuids[i] = u64::from_str_radix(f, 16)
            .map_err(|_| perr("get-gi", format!("UUID {f:?} is not hex")))?;
    }
    let mut flags = [0u8; 7];
    for (i, f) in fields[4..].iter().enumerate() {
        flags[i] = f
            .parse()
            .map_err(|_| perr("get-gi", format!("flag {f:?} is not a number")))?;
    }
    Ok(Gi {
        uuids,
        flags: Some(flags),
    })
}

/// Parses the `uuid { 0x...; 0x...; 0x...; 0x...; flags 0x...; }` block of
/// `drbdadm dump-md`.
pub fn parse_dump_md(text: &str) -> Result<Gi, ParseError> {
    let start = text
        .find("uuid {")
        .ok_or_else(|| perr("dump-md", "no `uuid {` block"))?;
    let block = &text[start + "uuid {".len()..];
    let end = block
        .find('}')
        .ok_or_else(|| perr("dump-md", "unterminated uuid block"))?;
    let mut uuids = Vec::new();
    for tok in block[..end].split([';', ' ', '\n', '\t']) {
        let tok = tok.trim();
        if let Some(hex) = tok.strip_prefix("0x") {
            if uuids.len() < 4 {
                uuids.push(
                    u64::from_str_radix(hex, 16)
                        .map_err(|_| perr("dump-md", format!("UUID {tok:?}")))?,
                );
            }
        }
    }
    let uuids: [u64; 4] = uuids
        .try_into()
        .map_err(|v: Vec<u64>| perr("dump-md", format!("{} UUIDs, want 4", v.len())))?;
    Ok(Gi { uuids, flags: None })
}

// ------------------------------------------------------------------ cman_tool

/// `cman_tool status`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CmanStatus {
    /// Every `Key: value` line, value trimmed.
    pub fields: BTreeMap<String, String>,
    pub nodes: Option<u32>,
    /// `Quorum:` line without `Activity blocked`.
    pub quorate: bool,
    /// `Membership state: Cluster-Member`.
    pub member: bool,
    /// `Flags:` words, e.g. `2node`, `Dirty`.
    pub flags: Vec<String>,
}

pub fn parse_cman_status(text: &str) -> Result<CmanStatus, ParseError> {
    let mut st = CmanStatus::default();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once(':') {
            st.fields.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    let quorum = st
        .fields
        .get("Quorum")
        .ok_or_else(|| perr("cman_tool status", "no Quorum: line"))?;
    st.quorate = !quorum.contains("Activity blocked");
    st.nodes = st.fields.get("Nodes").and_then(|n| n.parse().ok());
    st.member = st
        .fields
        .get("Membership state")
        .is_some_and(|m| m == "Cluster-Member");
    st.flags = st
        .fields
        .get("Flags")
        .map(|f| f.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    Ok(st)
}

/// One row of `cman_tool nodes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmanNode {
    pub id: u32,
    /// `M` member, `X` not a member, `d` disallowed, `?` other.
    pub status: char,
    pub name: String,
}

pub fn parse_cman_nodes(text: &str) -> Result<Vec<CmanNode>, ParseError> {
    let mut out = Vec::new();
    for line in text.lines() {
        let toks: Vec<&str> = line.split_whitespace().collect();
        if toks.len() < 3 || toks[0] == "Node" || toks[0] == "NOTE:" {
            continue;
        }
        let Ok(id) = toks[0].parse() else {
            continue;
        };
        let status = toks[1].chars().next().unwrap_or('?');
        let name = toks[toks.len() - 1].to_string();
        out.push(CmanNode { id, status, name });
    }
    Ok(out)
}

// ---------------------------------------------------------------------- LVM

/// A `pvs --noheadings -o pv_name,vg_name` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PvRow {
    pub pv: String,
    pub vg: Option<String>,
}

/// A `vgs --noheadings -o vg_name,vg_attr` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VgRow {
    pub vg: String,
    pub attr: String,
}

impl VgRow {
    /// vg_attr[5] == 'c'.
    pub fn clustered(&self) -> bool {
        self.attr.chars().nth(5) == Some('c')
    }
}

/// A `lvs --noheadings -o lv_name,vg_name,lv_attr,lv_size --units m
/// --nosuffix` row.
#[derive(Debug, Clone, PartialEq)]
pub struct LvRow {
    pub lv: String,
    pub vg: String,
    pub attr: String,
    pub size_m: Option<f64>,
}

impl LvRow {
    /// lv_attr[4] == 'a'.
    pub fn active(&self) -> bool {
        self.attr.chars().nth(4) == Some('a')
    }
}

fn lvm_rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|t| !t.is_empty())
}

pub fn parse_pvs(text: &str) -> Vec<PvRow> {
    lvm_rows(text)
        .filter(|t| t[0].starts_with('/'))
        .map(|t| PvRow {
            pv: t[0].to_string(),
            vg: t.get(1).map(|s| s.to_string()),
        })
        .collect()
}

pub fn parse_vgs(text: &str) -> Vec<VgRow> {
    lvm_rows(text)
        .filter(|t| t.len() >= 2)
        .map(|t| VgRow {
            vg: t[0].to_string(),
            attr: t[1].to_string(),
        })
        .collect()
}

pub fn parse_lvs(text: &str) -> Vec<LvRow> {
    lvm_rows(text)
        .filter(|t| t.len() >= 3)
        .map(|t| LvRow {
            lv: t[0].to_string(),
            vg: t[1].to_string(),
            attr: t[2].to_string(),
            size_m: t.get(3).and_then(|s| s.parse().ok()),
        })
        .collect()
}

// ------------------------------------------------------------------ gfs2_tool

/// `gfs2_tool sb <dev> proto|table` -> the quoted value.
pub fn parse_gfs2_sb_value(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.starts_with("current "))?;
    let (_, v) = line.split_once(" = ")?;
    Some(v.trim().trim_matches('"').to_string())
}

/// `gfs2_tool sb <dev> all`: `  name = value` lines (repeated names keep
/// the last value).
pub fn parse_gfs2_sb_all(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

// ------------------------------------------------------------------ chkconfig

/// `chkconfig --list NAME`: the on/off state of runlevels 0-6.
pub fn parse_chkconfig_list(text: &str) -> Option<(String, [bool; 7])> {
    let line = text.lines().find(|l| l.contains("0:"))?;
    let mut toks = line.split_whitespace();
    let name = toks.next()?.to_string();
    let mut levels = [false; 7];
    let mut seen = 0;
    for tok in toks {
        let (lvl, v) = tok.split_once(':')?;
        let lvl: usize = lvl.parse().ok()?;
        *levels.get_mut(lvl)? = v == "on";
        seen += 1;
    }
    (seen == 7).then_some((name, levels))
}

// -------------------------------------------------------- /proc/mounts, fstab

/// A line of /proc/mounts or /etc/fstab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub device: String,
    pub dir: String,
    pub fstype: String,
    pub options: String,
}

/// Parses /proc/mounts or /etc/fstab (comments and blank lines skipped).
pub fn parse_mounts(text: &str) -> Vec<MountEntry> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            (t.len() >= 3).then(|| MountEntry {
                device: t[0].to_string(),
                dir: t[1].to_string(),
                fstype: t[2].to_string(),
                options: t.get(3).unwrap_or(&"defaults").to_string(),
            })
        })
        .collect()
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

    #[test]
    fn gi_brand_new_and_history() {
        let g = parse_gi(
            "0000000000000004:0000000000000000:0000000000000000:0000000000000000:0:0:0:0:0:0:0\n",
        )
        .unwrap();
        assert!(g.is_brand_new());
        assert_eq!(
            g.line(),
            "0000000000000004:0000000000000000:0000000000000000:0000000000000000:0:0:0:0:0:0:0"
        );
        let g = parse_gi(
            "B7E1D44A53C1F8A1:0000000000000000:6A1E0C5CB9C2E2F5:6A1D0C5CB9C2E2F5:1:1:1:1:0:0:0",
        )
        .unwrap();
        assert!(!g.is_brand_new());
        assert_eq!(g.uuids[0], 0xB7E1D44A53C1F8A1);
        assert_eq!(g.flags, Some([1, 1, 1, 1, 0, 0, 0]));
        assert!(parse_gi("0004:0:0").is_err());
        assert!(parse_gi("").is_err());
    }

    #[test]
    fn dump_md_uuid_block() {
        let t = "# DRBD meta data dump
# 2010-05-10 20:54:32 +0000 [1273524872]
# an-node01.alteeve.com> drbdmeta 0 v08 /dev/an-lvm01/lv02 internal dump-md
#

version \"v08\";

# md_size_sect 262144
# md_offset 429496725504
# al_offset 429496692736
# bm_offset 429483585536

uuid {
    0x0000000000000004; 0x0000000000000000; 0x0000000000000000; 0x0000000000000000;
    flags 0x00000000;
}
# al-extents 257;
la-size-sect 0;
bm-byte-per-bit 4096;
device-uuid 0x2A8B2C1D3E4F5061;
";
        let g = parse_dump_md(t).unwrap();
        assert!(g.is_brand_new());
        assert!(parse_dump_md("").is_err());
    }

    #[test]
    fn cman_status_real_sample_single_node() {
        let t = "Version: 6.1.0
Config Version: 8
Cluster Name: build
Cluster Id: 3240
Cluster Member: Yes
Cluster Generation: 8
Membership state: Cluster-Member
Nodes: 1
Expected votes: 1
Total votes: 1
Quorum: 1  
Active subsystems: 7
Flags: Dirty 
Ports Bound: 0  
Node name: appserv35
Node ID: 1
Multicast addresses: 239.195.2.35 
Node addresses: 192.168.2.49 
";
        let s = parse_cman_status(t).unwrap();
        assert_eq!(s.nodes, Some(1));
        assert!(s.quorate && s.member);
        assert_eq!(s.flags, vec!["Dirty".to_string()]);
        assert_eq!(s.fields["Cluster Name"], "build");
    }

    #[test]
    fn cman_status_two_node_and_blocked() {
        let t = "Version: 6.2.0
Config Version: 1
Cluster Name: an-cluster
Cluster Id: 26777
Cluster Member: Yes
Cluster Generation: 8
Membership state: Cluster-Member
Nodes: 2
Expected votes: 1
Total votes: 2
Node votes: 1
Quorum: 1  
Active subsystems: 7
Flags: 2node Dirty 
Ports Bound: 0  
Node name: an-node01.alteeve.com
Node ID: 1
Multicast addresses: 239.192.104.2 
Node addresses: 10.0.1.71 
";
        let s = parse_cman_status(t).unwrap();
        assert_eq!(s.nodes, Some(2));
        assert!(s.quorate);
        assert!(s.flags.contains(&"2node".to_string()));
        let blocked = t.replace("Quorum: 1  ", "Quorum: 2 Activity blocked");
        assert!(!parse_cman_status(&blocked).unwrap().quorate);
        assert!(
            parse_cman_status("cman_tool: Cannot open connection to cman, is it running ?\n")
                .is_err()
        );
    }

    #[test]
    fn cman_nodes_members_and_missing() {
        let t = "Node  Sts   Inc   Joined               Name
   1   M      8   2008-12-15 13:53:25  appserv35
";
        assert_eq!(
            parse_cman_nodes(t).unwrap(),
            vec![CmanNode {
                id: 1,
                status: 'M',
                name: "appserv35".into()
            }]
        );
        let t = "Node  Sts   Inc   Joined               Name
   1   M      4   2010-01-05 10:01:02  node1.example.com
   2   X      0                        node2.example.com
";
        let n = parse_cman_nodes(t).unwrap();
        assert_eq!(
            n[1],
            CmanNode {
                id: 2,
                status: 'X',
                name: "node2.example.com".into()
            }
        );
    }

    #[test]
    fn lvm_reports_with_two_space_prefix() {
        let pvs = "  /dev/drbd0 vg_cluster a- \n  /dev/sda2  VolGroup00 a- \n";
        let p = parse_pvs(pvs);
        assert_eq!(
            p[0],
            PvRow {
                pv: "/dev/drbd0".into(),
                vg: Some("vg_cluster".into())
            }
        );
        assert_eq!(p[1].vg.as_deref(), Some("VolGroup00"));
        // A PV in no VG: the vg_name column is empty.
        let p = parse_pvs("  /dev/drbd0            \n");
        assert_eq!(p[0].vg, None);

        let vgs = parse_vgs("  VolGroup00 wz--n-\n  vg_cluster wz--nc\n");
        assert!(!vgs[0].clustered());
        assert!(vgs[1].clustered());

        let lvs = parse_lvs(
            "  LogVol00 VolGroup00 -wi-ao 7712.00\n  gfs01    vg_cluster -wi-a- 10240.00\n",
        );
        assert_eq!(lvs[1].lv, "gfs01");
        assert_eq!(lvs[1].size_m, Some(10240.0));
        assert!(lvs[1].active());
        let inactive = parse_lvs("  vm01 drbd_vg0 -wi--- 20480.00\n");
        assert!(!inactive[0].active());
    }

    #[test]
    fn gfs2_tool_sb() {
        assert_eq!(
            parse_gfs2_sb_value("current lock protocol name = \"lock_dlm\"\n").as_deref(),
            Some("lock_dlm")
        );
        assert_eq!(
            parse_gfs2_sb_value("current lock table name = \"an-cluster:iso_store\"\n").as_deref(),
            Some("an-cluster:iso_store")
        );
        assert_eq!(
            parse_gfs2_sb_value("gfs2_tool: there isn't a GFS2 filesystem on /dev/x\n"),
            None
        );
        let all = parse_gfs2_sb_all(
            "  mh_magic = 0x01161970\n  sb_fs_format = 1801\n  sb_locktable = mycluster:gfs01\n",
        );
        assert_eq!(all["sb_fs_format"], "1801");
        assert_eq!(all["sb_locktable"], "mycluster:gfs01");
    }

    #[test]
    fn chkconfig_list_line() {
        let (name, lv) =
            parse_chkconfig_list("xend           \t0:off\t1:off\t2:on\t3:on\t4:on\t5:on\t6:off\n")
                .unwrap();
        assert_eq!(name, "xend");
        assert_eq!(lv, [false, false, true, true, true, true, false]);
        assert!(parse_chkconfig_list("service x does not support chkconfig\n").is_none());
    }

    #[test]
    fn mounts_and_fstab() {
        let m = parse_mounts("rootfs / rootfs rw 0 0\n/dev/mapper/drbd_vg0-iso_store /xen_shared gfs2 rw,hostdata=jid=0:id=65537:first=1 0 0\n");
        assert_eq!(m[1].dir, "/xen_shared");
        assert_eq!(m[1].fstype, "gfs2");
        let f = parse_mounts("# comment\n\nLABEL=/boot /boot ext3 defaults 1 2\n");
        assert_eq!(f.len(), 1);
    }
}
