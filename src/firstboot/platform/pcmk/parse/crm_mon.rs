//! `crm_mon --one-shot --inactive --output-as=xml` (pacemaker 2.1): the
//! nodes, whether there is a DC, and every resource instance with its role.

use crate::firstboot::error::{perr, ParseError};

const WHAT: &str = "crm_mon --output-as=xml";

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CrmMon {
    /// A designated controller is elected (`<current_dc present="true">`).
    pub dc: bool,
    /// `with_quorum` of the DC, when there is one.
    pub quorum: Option<bool>,
    pub nodes: Vec<NodeRow>,
    pub instances: Vec<Instance>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    pub name: String,
    pub online: bool,
    pub unclean: bool,
    pub standby: bool,
}

/// One `<resource>` of the output: a primitive, or one instance of a
/// primitive in a clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    /// The top-level clone it belongs to, if any.
    pub clone: Option<String>,
    /// The clone is promotable (`multi_state="true"`).
    pub promotable: bool,
    /// e.g. `ocf:linbit:drbd`, `stonith:fence_ipmilan`.
    pub agent: String,
    /// `Started`, `Promoted`, `Unpromoted`, `Stopped`, ...
    pub role: String,
    pub active: bool,
    pub failed: bool,
    /// The nodes it runs on.
    pub nodes: Vec<String>,
}

fn flag(n: roxmltree::Node, attr: &str) -> bool {
    n.attribute(attr) == Some("true")
}

pub fn parse(text: &str) -> Result<CrmMon, ParseError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| perr(WHAT, e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "pacemaker-result" {
        return Err(perr(
            WHAT,
            format!("root element <{}>", root.tag_name().name()),
        ));
    }
    let mut out = CrmMon::default();
    let child = |name: &str| root.children().find(|c| c.has_tag_name(name));
    if let Some(dc) =
        child("summary").and_then(|s| s.children().find(|c| c.has_tag_name("current_dc")))
    {
        out.dc = flag(dc, "present");
        out.quorum = dc.attribute("with_quorum").map(|v| v == "true");
    }
    let nodes = child("nodes").ok_or_else(|| perr(WHAT, "no <nodes>"))?;
    for n in nodes.children().filter(|c| c.has_tag_name("node")) {
        out.nodes.push(NodeRow {
            name: n.attribute("name").unwrap_or_default().to_string(),
            online: flag(n, "online"),
            unclean: flag(n, "unclean"),
            standby: flag(n, "standby"),
        });
    }
    // With no resources configured, pacemaker 2.1.5 prints no <resources>
    // at all (tests/fixtures/pcmk/crm_mon-live-empty-cib.xml).
    let Some(resources) = child("resources") else {
        return Ok(out);
    };
    for top in resources.children().filter(|c| c.is_element()) {
        let (clone, promotable) = if top.has_tag_name("clone") {
            (
                top.attribute("id").map(str::to_string),
                flag(top, "multi_state"),
            )
        } else {
            (None, false)
        };
        for r in top.descendants().filter(|d| d.has_tag_name("resource")) {
            out.instances.push(Instance {
                id: r.attribute("id").unwrap_or_default().to_string(),
                clone: clone.clone(),
                promotable,
                agent: r
                    .attribute("resource_agent")
                    .unwrap_or_default()
                    .to_string(),
                role: r.attribute("role").unwrap_or_default().to_string(),
                active: flag(r, "active"),
                failed: flag(r, "failed"),
                nodes: r
                    .children()
                    .filter(|c| c.has_tag_name("node"))
                    .filter_map(|c| c.attribute("name").map(str::to_string))
                    .collect(),
            });
        }
    }
    Ok(out)
}

/// Why crm_mon failed, from the errors of its XML (`<status code="102"
/// message="Not connected"><errors><error>...`), when it printed them.
pub fn failure(text: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(text).ok()?;
    let status = doc.descendants().find(|n| n.has_tag_name("status"))?;
    let errors: Vec<&str> = status
        .descendants()
        .filter(|n| n.has_tag_name("error"))
        .filter_map(|n| n.text())
        .collect();
    Some(match errors.last() {
        Some(e) => e.to_string(),
        None => status.attribute("message")?.to_string(),
    })
}

/// Why a crm_mon that exited 0 shows no cluster yet: pacemaker 2.1.5,
/// just started, answers with exit 0 and only its errors ("Could not
/// connect to the CIB: ...", tests/fixtures/pcmk/crm_mon-cib-not-connected.xml)
/// until its CIB manager is up. None when the output has its `<nodes>`
/// (or is not crm_mon's XML at all: [`parse`] says what is wrong).
pub fn not_ready(text: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(text).ok()?;
    let root = doc.root_element();
    if root.tag_name().name() != "pacemaker-result"
        || root.children().any(|c| c.has_tag_name("nodes"))
    {
        return None;
    }
    let daemon = root
        .children()
        .find(|c| c.has_tag_name("pacemakerd"))
        .and_then(|p| p.attribute("state"))
        .map(|s| format!(" (pacemakerd {s})"))
        .unwrap_or_default();
    let why = failure(text).unwrap_or_else(|| "no node list yet".into());
    Some(format!("pacemaker is not ready: {why}{daemon}"))
}

impl CrmMon {
    /// The node row of a member named either way (FQDN or short name).
    pub fn node(&self, names: &[&str]) -> Option<&NodeRow> {
        self.nodes.iter().find(|n| names.contains(&n.name.as_str()))
    }

    /// Online, clean, not in standby.
    pub fn online(&self, names: &[&str]) -> bool {
        self.node(names)
            .is_some_and(|n| n.online && !n.unclean && !n.standby)
    }

    /// The primitive ids in a clone (once each).
    pub fn clone_primitives(&self, clone: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .instances
            .iter()
            .filter(|i| i.clone.as_deref() == Some(clone))
            .map(|i| i.id.clone())
            .collect();
        ids.dedup();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Whether every primitive of `clone` runs on the node (named either
    /// way) in `role`, active and not failed. False for a clone the output
    /// does not list.
    pub fn clone_on(&self, clone: &str, role: &str, names: &[&str]) -> bool {
        let ids = self.clone_primitives(clone);
        !ids.is_empty()
            && ids.iter().all(|id| {
                self.instances.iter().any(|i| {
                    i.clone.as_deref() == Some(clone)
                        && &i.id == id
                        && i.role == role
                        && i.active
                        && !i.failed
                        && i.nodes.iter().any(|n| names.contains(&n.as_str()))
                })
            })
    }

    /// What is not running as it should with both nodes up, one phrase
    /// each: a clone's primitive not active (Promoted for a promotable
    /// clone, else Started) on each of the nodes, a primitive outside
    /// clones not active anywhere, anything failed. Empty when all runs.
    pub fn not_running(&self, nodes: &[&[&str]]) -> Vec<String> {
        let mut out = Vec::new();
        for i in self.instances.iter().filter(|i| i.failed) {
            out.push(format!("{} failed on {}", i.id, i.nodes.join(",")));
        }
        let mut clones: Vec<(&str, bool)> = self
            .instances
            .iter()
            .filter_map(|i| i.clone.as_deref().map(|c| (c, i.promotable)))
            .collect();
        clones.dedup();
        for (clone, promotable) in clones {
            let role = if promotable { "Promoted" } else { "Started" };
            for names in nodes {
                for id in self.clone_primitives(clone) {
                    let ok = self.instances.iter().any(|i| {
                        i.clone.as_deref() == Some(clone)
                            && i.id == id
                            && i.role == role
                            && i.active
                            && !i.failed
                            && i.nodes.iter().any(|n| names.contains(&n.as_str()))
                    });
                    if !ok {
                        out.push(format!("{id} not {role} on {}", names[0]));
                    }
                }
            }
        }
        for i in self.instances.iter().filter(|i| i.clone.is_none()) {
            if !i.active || i.role != "Started" {
                out.push(format!("{} {}", i.id, i.role));
            }
        }
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N1: &[&str] = &["an-node01.alteeve.com", "an-node01"];
    const N2: &[&str] = &["an-node02.alteeve.com", "an-node02"];

    fn fixture(name: &str) -> CrmMon {
        let path = format!("{}/tests/fixtures/pcmk/{name}", env!("CARGO_MANIFEST_DIR"));
        parse(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn a_cib_not_connected_yet_is_not_ready_not_an_error() {
        // RUN IN THE VM RIG: pacemaker 2.1.5 two seconds after its start.
        let path = format!(
            "{}/tests/fixtures/pcmk/crm_mon-cib-not-connected.xml",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).unwrap();
        let why = not_ready(&text).expect("not ready");
        assert!(
            why.contains("Could not connect to the CIB") && why.contains("pacemakerd running"),
            "{why}"
        );
        // parse alone would refuse it: no <nodes>.
        assert!(parse(&text).is_err());
        // A full answer is ready.
        let full = format!(
            "{}/tests/fixtures/pcmk/crm_mon-all-started.xml",
            env!("CARGO_MANIFEST_DIR")
        );
        assert_eq!(not_ready(&std::fs::read_to_string(full).unwrap()), None);
    }

    #[test]
    fn an_empty_cib_with_both_nodes_online() {
        let m = fixture("crm_mon-empty-cib.xml");
        assert!(m.online(N1) && m.online(N2));
        assert!(m.instances.is_empty());
        assert!(m.not_running(&[N1, N2]).is_empty());
    }

    #[test]
    fn loaded_cib_holds_drbd_and_storage_stopped() {
        let m = fixture("crm_mon-cib-loaded.xml");
        assert!(m.clone_on("locking-clone", "Started", N1));
        assert!(m.clone_on("locking-clone", "Started", N2));
        assert!(!m.clone_on("drbd_r0-clone", "Promoted", N1));
        assert_eq!(m.clone_primitives("locking-clone"), ["dlm", "lvmlockd"]);
        let missing = m.not_running(&[N1, N2]);
        assert!(
            missing.contains(&"drbd_r0 not Promoted on an-node01.alteeve.com".to_string()),
            "{missing:?}"
        );
        assert!(
            missing.contains(&"fs_iso_store not Started on an-node02.alteeve.com".to_string()),
            "{missing:?}"
        );
    }

    #[test]
    fn drbd_promoted_on_both() {
        let m = fixture("crm_mon-drbd-promoted.xml");
        assert!(m.clone_on("drbd_r0-clone", "Promoted", N1));
        assert!(m.clone_on("drbd_r0-clone", "Promoted", N2));
        assert!(!m.clone_on("storage_drbd_vg0-clone", "Started", N2));
    }

    #[test]
    fn all_started_and_one_failed() {
        let m = fixture("crm_mon-all-started.xml");
        assert_eq!(m.not_running(&[N1, N2]), Vec::<String>::new());
        let m = fixture("crm_mon-fs-failed.xml");
        let missing = m.not_running(&[N1, N2]);
        assert!(
            missing.contains(&"fs_iso_store failed on an-node02.alteeve.com".to_string()),
            "{missing:?}"
        );
    }

    #[test]
    fn a_live_cluster_at_each_stage() {
        // Real crm_mon output of the VM rig's two nodes (node1, node2).
        let (a, b): (&[&str], &[&str]) = (&["node1"], &["node2"]);
        let m = fixture("crm_mon-live-empty-cib.xml");
        assert!(m.dc && m.quorum == Some(true) && m.online(a) && m.online(b));
        assert!(m.instances.is_empty());
        let m = fixture("crm_mon-live-cib-loaded.xml");
        assert!(!m.clone_on("locking-clone", "Started", a));
        assert_eq!(
            m.clone_primitives("shared_vg1-clone"),
            ["sharedfs1", "sharedlv1"]
        );
        let m = fixture("crm_mon-live-drbd-promoted.xml");
        for n in [a, b] {
            assert!(m.clone_on("drbd_r0-clone", "Promoted", n));
            assert!(m.clone_on("locking-clone", "Started", n));
            assert!(!m.clone_on("shared_vg1-clone", "Started", n));
        }
        let m = fixture("crm_mon-live-all-started.xml");
        assert_eq!(m.not_running(&[a, b]), Vec::<String>::new());
    }

    #[test]
    fn why_it_failed() {
        let text = std::fs::read_to_string(format!(
            "{}/tests/fixtures/pcmk/crm_mon-not-running.xml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert_eq!(
            failure(&text).as_deref(),
            Some("crm_mon: Connection to cluster failed: Connection refused")
        );
        assert_eq!(failure("garbage"), None);
    }

    #[test]
    fn not_xml_is_an_error() {
        assert!(parse("Error: cluster is not available on this node\n").is_err());
        assert!(parse("<other/>").is_err());
    }
}
