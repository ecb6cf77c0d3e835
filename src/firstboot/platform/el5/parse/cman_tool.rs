//! `cman_tool status` and `cman_tool nodes` (cman 2.0).
//!
//! Samples in the tests are verbatim from real transcripts
//! (`shared/reference/el5-tool-outputs.md`). No regex: plain string handling,
//! tolerant of the variants seen in them.

use crate::firstboot::error::{perr, ParseError};
use std::collections::BTreeMap;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
