//! `gfs2_tool sb <dev> <field>` (EL5's gfs2-utils).
//!
//! Samples in the tests are verbatim from real transcripts
//! (`shared/reference/el5-tool-outputs.md`). No regex: plain string handling,
//! tolerant of the variants seen in them.

use std::collections::BTreeMap;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
