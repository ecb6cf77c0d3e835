//! The fence agents each pacemaker platform ships, so that `check` can
//! refuse a fence device whose agent a node would not have.
//!
//! el9-kvm: the agent → package map of RHEL 9's fence-agents 4.10.0
//! (OpenELA's import of fence-agents-4.10.0-55.el9_3.3, SPECS/fence-agents.spec:
//! each `%files <package>` and the `/usr/sbin/fence_*` it holds), for
//! x86_64: fence_zvmip (s390x only) is left out, and fence_virtd (a daemon,
//! not an agent). Each agent is its own package, which the kickstart
//! installs.
//!
//! debian12-kvm: every `/usr/sbin/fence_*` of Debian 12's fence-agents
//! 4.12.1-1 (one package, `dpkg -c`), less fence_ack_manual and fence_dummy
//! ([`NOT_A_FENCE`]).

/// Agents that never cut a node off: a cluster that "fences" with them
/// goes on as if the node were dead while it still writes.
pub const NOT_A_FENCE: &[&str] = &["fence_ack_manual", "fence_dummy"];

/// RHEL 9: agent → its package.
pub const EL9: &[(&str, &str)] = &[
    ("fence_aliyun", "fence-agents-aliyun"),
    ("fence_amt_ws", "fence-agents-amt-ws"),
    ("fence_apc", "fence-agents-apc"),
    ("fence_apc_snmp", "fence-agents-apc-snmp"),
    ("fence_aws", "fence-agents-aws"),
    ("fence_azure_arm", "fence-agents-azure-arm"),
    ("fence_bladecenter", "fence-agents-bladecenter"),
    ("fence_brocade", "fence-agents-brocade"),
    ("fence_cisco_mds", "fence-agents-cisco-mds"),
    ("fence_cisco_ucs", "fence-agents-cisco-ucs"),
    ("fence_compute", "fence-agents-compute"),
    ("fence_drac5", "fence-agents-drac5"),
    ("fence_eaton_snmp", "fence-agents-eaton-snmp"),
    ("fence_emerson", "fence-agents-emerson"),
    ("fence_eps", "fence-agents-eps"),
    ("fence_evacuate", "fence-agents-compute"),
    ("fence_gce", "fence-agents-gce"),
    ("fence_heuristics_ping", "fence-agents-heuristics-ping"),
    ("fence_hpblade", "fence-agents-hpblade"),
    ("fence_ibm_powervs", "fence-agents-ibm-powervs"),
    ("fence_ibm_vpc", "fence-agents-ibm-vpc"),
    ("fence_ibmblade", "fence-agents-ibmblade"),
    ("fence_idrac", "fence-agents-ipmilan"),
    ("fence_ifmib", "fence-agents-ifmib"),
    ("fence_ilo", "fence-agents-ilo2"),
    ("fence_ilo2", "fence-agents-ilo2"),
    ("fence_ilo3", "fence-agents-ipmilan"),
    ("fence_ilo3_ssh", "fence-agents-ilo-ssh"),
    ("fence_ilo4", "fence-agents-ipmilan"),
    ("fence_ilo4_ssh", "fence-agents-ilo-ssh"),
    ("fence_ilo5", "fence-agents-ipmilan"),
    ("fence_ilo5_ssh", "fence-agents-ilo-ssh"),
    ("fence_ilo_moonshot", "fence-agents-ilo-moonshot"),
    ("fence_ilo_mp", "fence-agents-ilo-mp"),
    ("fence_ilo_ssh", "fence-agents-ilo-ssh"),
    ("fence_imm", "fence-agents-ipmilan"),
    ("fence_intelmodular", "fence-agents-intelmodular"),
    ("fence_ipdu", "fence-agents-ipdu"),
    ("fence_ipmilan", "fence-agents-ipmilan"),
    ("fence_ipmilanplus", "fence-agents-ipmilan"),
    ("fence_kdump", "fence-agents-kdump"),
    ("fence_kubevirt", "fence-agents-kubevirt"),
    ("fence_lpar", "fence-agents-lpar"),
    ("fence_mpath", "fence-agents-mpath"),
    ("fence_openstack", "fence-agents-openstack"),
    ("fence_redfish", "fence-agents-redfish"),
    ("fence_rhevm", "fence-agents-rhevm"),
    ("fence_rsa", "fence-agents-rsa"),
    ("fence_rsb", "fence-agents-rsb"),
    ("fence_sbd", "fence-agents-sbd"),
    ("fence_scsi", "fence-agents-scsi"),
    ("fence_tripplite_snmp", "fence-agents-apc-snmp"),
    ("fence_virsh", "fence-agents-virsh"),
    ("fence_virt", "fence-virt"),
    ("fence_vmware_rest", "fence-agents-vmware-rest"),
    ("fence_vmware_soap", "fence-agents-vmware-soap"),
    ("fence_wti", "fence-agents-wti"),
    ("fence_xvm", "fence-virt"),
];

/// Debian 12: the agents of the one fence-agents package.
pub const DEBIAN12: &[&str] = &[
    "fence_aliyun",
    "fence_alom",
    "fence_amt",
    "fence_apc",
    "fence_apc_snmp",
    "fence_aws",
    "fence_azure_arm",
    "fence_bladecenter",
    "fence_brocade",
    "fence_cdu",
    "fence_cisco_mds",
    "fence_cisco_ucs",
    "fence_compute",
    "fence_crosslink",
    "fence_cyberpower_ssh",
    "fence_docker",
    "fence_drac",
    "fence_drac5",
    "fence_eaton_snmp",
    "fence_ecloud",
    "fence_emerson",
    "fence_eps",
    "fence_evacuate",
    "fence_gce",
    "fence_hds_cb",
    "fence_heuristics_ping",
    "fence_hpblade",
    "fence_ibm_powervs",
    "fence_ibm_vpc",
    "fence_ibmblade",
    "fence_ibmz",
    "fence_idrac",
    "fence_ifmib",
    "fence_ilo",
    "fence_ilo2",
    "fence_ilo3",
    "fence_ilo3_ssh",
    "fence_ilo4",
    "fence_ilo4_ssh",
    "fence_ilo5",
    "fence_ilo5_ssh",
    "fence_ilo_moonshot",
    "fence_ilo_mp",
    "fence_ilo_ssh",
    "fence_imm",
    "fence_intelmodular",
    "fence_ipdu",
    "fence_ipmilan",
    "fence_ipmilanplus",
    "fence_ironic",
    "fence_kdump",
    "fence_kubevirt",
    "fence_ldom",
    "fence_lindypdu",
    "fence_lpar",
    "fence_mpath",
    "fence_netio",
    "fence_openstack",
    "fence_ovh",
    "fence_powerman",
    "fence_pve",
    "fence_raritan",
    "fence_raritan_px3",
    "fence_rcd_serial",
    "fence_redfish",
    "fence_rhevm",
    "fence_rsa",
    "fence_rsb",
    "fence_sanbox2",
    "fence_sbd",
    "fence_scsi",
    "fence_skalar",
    "fence_tripplite_snmp",
    "fence_vbox",
    "fence_virsh",
    "fence_vmware",
    "fence_vmware_rest",
    "fence_vmware_soap",
    "fence_vmware_vcloud",
    "fence_wti",
    "fence_xenapi",
    "fence_zvmip",
];

/// The sentence for an agent that a platform does not ship.
pub fn not_shipped(agent: &str, platform: &str, package: &str, examples: &str) -> String {
    if NOT_A_FENCE.contains(&agent) {
        return format!("{agent} does not cut a node off: pacemaker would carry on as if the node were dead while it still writes; use the node's power or management board, e.g. fence_ipmilan");
    }
    if agent == "fence_na" {
        return format!("{platform} ships no fence_na (Node Assassin, el5-xen's agent is the first-boot helper itself): use an agent of {package}, e.g. {examples}");
    }
    format!("{platform} ships no {agent} (the agents come from {package}): use one it ships, e.g. {examples}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_are_sorted_agents_without_duplicates() {
        let el9: Vec<&str> = EL9.iter().map(|(a, _)| *a).collect();
        for list in [&el9[..], DEBIAN12] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
            assert!(list.iter().all(|a| a.starts_with("fence_")));
            assert!(!list.iter().any(|a| NOT_A_FENCE.contains(a)));
        }
        for (agent, package) in EL9 {
            assert!(package.starts_with("fence-"), "{agent}: {package}");
        }
        // The example profiles' agent is on both.
        assert!(el9.contains(&"fence_ipmilan") && DEBIAN12.contains(&"fence_ipmilan"));
    }
}
