//! The fence agents CentOS 5.4's `cman` package puts in /sbin, as far as the
//! sources of that era show it (docs/fence_na.md, "Agents cman ships").
//!
//! The list is deliberately the set that can be shown to be there:
//! - the agents the `cluster` tree's fence/agents/Makefile builds at the
//!   point where the RHEL5 branch split off (master and RHEL5 were synced in
//!   February 2007; the Makefile did not change between October 2006 and
//!   April 2007), xvm included because RHEL 5's cman is built with Xen;
//! - agents Red Hat's own RHEL 5 documents name for 5.4 or earlier:
//!   apc_snmp (Cluster Administration, Appendix B: "5.2 and later"), lpar
//!   and vmware (5.4 Release Notes, both Technology Previews).
//!
//! The 2.0.115 spec and Makefile (RHEL5 branch) are in no public mirror
//! reachable here, so other agents of the period (drac5, ilo_mp, ...) are
//! left out, as are source directories the 2007 Makefile did not build
//! (baytech, cpint, ibmblade, rackswitch, xcat, zvm). A profile naming one of
//! those is then refused until someone shows it is there: the safe mistake,
//! since the other one is a node with no agent.
//!
//! `fence_na` is not among them: the Node Assassin agent entered the
//! `cluster` tree only in August 2010 (cluster 3), as Perl needing
//! Net::Telnet. On EL5 clusterkick provides its own (this module).

/// Agents in CentOS 5.4's cman package (names as cluster.conf's
/// `fencedevice agent=` gives them), sorted.
pub const EL5_CMAN_AGENTS: &[&str] = &[
    "fence_apc",
    "fence_apc_snmp",
    "fence_bladecenter",
    "fence_brocade",
    "fence_bullpap",
    "fence_drac",
    "fence_egenera",
    "fence_ilo",
    "fence_ipmilan",
    "fence_lpar",
    "fence_manual",
    "fence_mcdata",
    "fence_rps10",
    "fence_rsa",
    "fence_rsb",
    "fence_sanbox2",
    "fence_scsi",
    "fence_vixel",
    "fence_vmware",
    "fence_wti",
    "fence_xvm",
];

/// The agent clusterkick installs itself on EL5 (as /sbin/fence_na).
pub const PROVIDED_AGENT: &str = "fence_na";

/// True when an EL5 node has `agent` after its packages are installed.
pub fn el5_cman_ships(agent: &str) -> bool {
    EL5_CMAN_AGENTS.binary_search(&agent).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_unique_and_without_fence_na() {
        let mut sorted = EL5_CMAN_AGENTS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, EL5_CMAN_AGENTS, "keep the list sorted and unique");
        assert!(!el5_cman_ships(PROVIDED_AGENT));
        assert!(el5_cman_ships("fence_ipmilan"));
        assert!(!el5_cman_ships("fence_ipmilan "));
        assert!(EL5_CMAN_AGENTS.iter().all(|a| a.starts_with("fence_")));
    }
}
