//! `corosync-quorumtool -s` (corosync 3): quorum and the members.

use crate::firstboot::error::{perr, ParseError};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Quorum {
    pub quorate: bool,
    /// `Nodes:`: how many nodes are members now.
    pub nodes: u32,
    /// The member names of "Membership information" (`(local)` dropped).
    pub members: Vec<String>,
}

pub fn parse(text: &str) -> Result<Quorum, ParseError> {
    let mut q = Quorum::default();
    let mut quorate = None;
    let mut nodes = None;
    let mut in_members = false;
    for line in text.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("Quorate:") {
            quorate = Some(v.trim() == "Yes");
        } else if let Some(v) = t.strip_prefix("Nodes:") {
            nodes = v.trim().parse().ok();
        } else if t.starts_with("Nodeid") && t.contains("Name") {
            in_members = true;
        } else if in_members {
            let w: Vec<&str> = t.split_whitespace().collect();
            // "<nodeid> <votes> <name> [(local)]"; the nodeid may be hex.
            if w.len() >= 3 && w[1].parse::<u32>().is_ok() {
                q.members.push(w[2].to_string());
            }
        }
    }
    q.quorate = quorate.ok_or_else(|| perr("corosync-quorumtool -s", "no `Quorate:` line"))?;
    q.nodes = nodes.ok_or_else(|| perr("corosync-quorumtool -s", "no `Nodes:` line"))?;
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_members_quorate() {
        let text = std::fs::read_to_string(format!(
            "{}/tests/fixtures/pcmk/quorumtool-two-members.txt",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let q = parse(&text).unwrap();
        assert!(q.quorate);
        assert_eq!(q.nodes, 2);
        assert_eq!(q.members, ["node1", "node2"]);
    }

    #[test]
    fn one_member_waiting_for_all() {
        let text = std::fs::read_to_string(format!(
            "{}/tests/fixtures/pcmk/quorumtool-one-member-waiting.txt",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let q = parse(&text).unwrap();
        assert!(!q.quorate);
        assert_eq!(
            (q.nodes, q.members.as_slice()),
            (1, &["node1".to_string()][..])
        );
    }

    #[test]
    fn no_quorum_line_is_an_error() {
        assert!(parse("Cannot initialize CMAP service\n").is_err());
    }
}
