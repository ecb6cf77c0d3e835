//! `drbdadm get-gi` and `drbdadm dump-md` (DRBD 8.3 drbdmeta): the data
//! generation identifiers that tell brand-new metadata from metadata with a
//! history.
//!
//! Samples in the tests are verbatim from real transcripts
//! (`shared/reference/el5-tool-outputs.md`). No regex: plain string handling,
//! tolerant of the variants seen in them.

use crate::firstboot::error::{perr, ParseError};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
