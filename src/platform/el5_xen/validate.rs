//! el5-xen's checks: its tables (`[dom0]`, `[totem]`), its key in a common
//! table (`install.extras_url`) and its rule for NIC names.

use super::model::{Bridge, El5Xen, Ring, Totem};
use super::raw::{RawDom0, RawEl5, RawTotem};
use crate::check::{int_in, ip_value, sp, url_value, S};
use crate::diag::Diagnostics;
use crate::model::{NetRole, Network};
use crate::platform::{Common, Flavor, Tables, UsedPort};
use std::collections::BTreeMap;

impl Tables for RawEl5 {
    fn validate(&self, common: &Common<'_>, d: &mut Diagnostics) -> Option<Flavor> {
        let extras_url = extras_url(common, d);
        let (dom0_memory, runlevel) = dom0(&self.dom0, d);
        let totem = totem(&self.totem, common.networks, d);
        let fence_agents = super::fence::validate(common, d);
        let bridges = bridges(common.networks)?;
        if d.has_errors() {
            return None;
        }
        Some(Flavor::El5Xen(El5Xen {
            dom0_memory,
            runlevel,
            extras_url,
            totem,
            bridges,
            fence_agents,
        }))
    }

    /// openais's totem binds each ring's mcastport, and mcastport - 1 to
    /// send from (totemnet.c).
    fn ports(&self) -> Vec<UsedPort> {
        let mut ports = Vec::new();
        for (j, r) in self.totem.get_ref().rings.get_ref().iter().enumerate() {
            let r = r.get_ref();
            let Ok(port) = u16::try_from(*r.mcastport.get_ref()) else {
                continue;
            };
            let key = format!("totem.rings[{j}].mcastport");
            ports.push(UsedPort {
                port,
                key: key.clone(),
                what: "openais's totem (UDP, receiving)".into(),
                span: sp(&r.mcastport),
            });
            if let Some(send) = port.checked_sub(1).filter(|p| *p > 0) {
                ports.push(UsedPort {
                    port: send,
                    key,
                    what: "openais's totem (UDP, sending: mcastport - 1)".into(),
                    span: sp(&r.mcastport),
                });
            }
        }
        ports
    }
}

/// The number N of an `ethN` name.
fn eth_number(interface: &str) -> Option<u32> {
    interface.strip_prefix("eth")?.parse().ok()
}

/// Xen's network-bridge works on ethN names: it renames ethN to pethN and
/// makes xenbrN.
pub fn interface_problem(interface: &str) -> Option<String> {
    match eth_number(interface) {
        Some(_) => None,
        None => Some(format!("{interface:?} is not an ethN interface name (e.g. \"eth0\"); Xen's network-bridge renames ethN to pethN and makes xenbrN")),
    }
}

fn bridges(networks: &[Network]) -> Option<Vec<Bridge>> {
    networks
        .iter()
        .map(|n| {
            let vifnum = eth_number(&n.interface)?;
            Some(Bridge {
                role: n.role,
                interface: n.interface.clone(),
                bridge: format!("xenbr{vifnum}"),
                vifnum,
            })
        })
        .collect()
}

/// drbd83 and kmod-drbd83-xen come from CentOS extras, next to the install
/// tree's `os/` by default.
fn extras_url(c: &Common<'_>, d: &mut Diagnostics) -> String {
    match c.extras_url {
        Some(e) => url_value(d, e, "install.extras_url"),
        None if c.url.contains("/os/") => c.url.replacen("/os/", "/extras/", 1),
        None => {
            d.error(sp(c.install_url), "install.extras_url", "drbd83 and kmod-drbd83-xen come from CentOS extras: give install.extras_url (it cannot be derived from an install.url without /os/)");
            String::new()
        }
    }
}

fn dom0(raw: &S<RawDom0>, d: &mut Diagnostics) -> (String, u8) {
    let dom0 = raw.get_ref();
    let memory = dom0.memory.get_ref().clone();
    if !memory
        .strip_suffix(['M', 'G'])
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && n != "0")
    {
        d.error(
            sp(&dom0.memory),
            "dom0.memory",
            format!("{memory:?} is not a Xen dom0_mem value; write a number followed by M or G, e.g. \"512M\""),
        );
    }
    let runlevel: u8 = int_in(d, &dom0.runlevel, "dom0.runlevel", 1, 5);
    if dom0.runlevel.get_ref() == &4 {
        d.warn(
            sp(&dom0.runlevel),
            "dom0.runlevel",
            "runlevel 4 is unused on CentOS 5; 3 is the usual headless choice",
        );
    }
    (memory, runlevel)
}

/// Why a second ring is left out of cluster.conf (docs/evidence/el5.md §2).
pub const SECOND_RING_WARNING: &str = "CentOS 5 cannot run a second ring safely, so cluster.conf gets ring 0 only (this ring stays in openais.conf, which cman does not read): the DLM (clvmd, GFS2) talks TCP to the first address only, so losing ring 0 would hang GFS2 on both nodes without any fencing; Red Hat never supported redundant rings on RHEL 5. For link redundancy, put the back channel on a bonded interface";

/// openais 0.80's totem: one or two multicast rings on the cluster's
/// networks. cman reads only ring 0 (from cluster.conf); a second ring is
/// written to openais.conf, which cman ignores, and gets a warning.
fn totem(raw: &S<RawTotem>, networks: &[Network], d: &mut Diagnostics) -> Totem {
    let t = raw.get_ref();
    let version = t.version.as_ref().map_or(2, |v| {
        if *v.get_ref() != 2 {
            d.error(
                sp(v),
                "totem.version",
                "openais.conf's totem version is always 2",
            );
        }
        2
    });
    let threads: u32 = int_in(d, &t.threads, "totem.threads", 0, 16);
    let mut rings = Vec::new();
    let mut seen_mcast = BTreeMap::new();
    for (j, r) in t.rings.get_ref().iter().enumerate() {
        let base = format!("totem.rings[{j}]");
        let r = r.get_ref();
        let role = NetRole::from_key(r.network.get_ref());
        if role.is_none() {
            d.error(
                sp(&r.network),
                &format!("{base}.network"),
                format!(
                    "unknown network {:?}; use internet, drbd or back_channel",
                    r.network.get_ref()
                ),
            );
        }
        let maddr = ip_value(d, &r.mcastaddr, &format!("{base}.mcastaddr"));
        if let Some(m) = maddr {
            let o = m.octets();
            if !m.is_multicast() {
                d.error(
                    sp(&r.mcastaddr),
                    &format!("{base}.mcastaddr"),
                    format!("{m} is not a multicast address (224.0.0.0/4)"),
                );
            } else if o[0] == 224 {
                d.error(sp(&r.mcastaddr), &format!("{base}.mcastaddr"), format!("{m} is in 224.0.0.0/8, which is reserved for network control; use e.g. 226.94.1.1"));
            }
            if let Some(first) = seen_mcast.insert(m, j) {
                d.error(
                    sp(&r.mcastaddr),
                    &format!("{base}.mcastaddr"),
                    format!("{m} is also totem.rings[{first}].mcastaddr"),
                );
            }
        }
        let port: u16 = int_in(d, &r.mcastport, &format!("{base}.mcastport"), 2, 65535);
        if let (Some(role), Some(m)) = (role, maddr) {
            if let Some(net) = networks.iter().find(|n| n.role == role) {
                rings.push(Ring {
                    number: j as u32,
                    network: role,
                    bindnetaddr: net.subnet.network(),
                    mcastaddr: m,
                    mcastport: port,
                });
            }
        }
    }
    let nrings = t.rings.get_ref().len();
    if nrings == 0 || nrings > 2 {
        d.error(
            sp(&t.rings),
            "totem.rings",
            format!("openais takes one or two rings; this profile has {nrings}"),
        );
    }
    if let Some(r0) = t.rings.get_ref().first() {
        let net = &r0.get_ref().network;
        if NetRole::from_key(net.get_ref()) == Some(NetRole::Drbd)
            || NetRole::from_key(net.get_ref()) == Some(NetRole::Internet)
        {
            d.error(
                sp(net),
                "totem.rings[0].network",
                "cman runs its ring where the node names resolve, and the %post's /etc/hosts puts them on the back channel: use back_channel",
            );
        }
    }
    if let Some(r1) = t.rings.get_ref().get(1) {
        d.warn(sp(r1), "totem.rings[1]", SECOND_RING_WARNING);
    }
    let rrp_mode = t.rrp_mode.get_ref().clone();
    match (rrp_mode.as_str(), nrings) {
        ("none", 1) | ("active", 2) | ("passive", 2) => {}
        ("none" | "active" | "passive", n) => d.error(sp(&t.rrp_mode), "totem.rrp_mode", format!("rrp_mode {rrp_mode:?} does not fit {n} ring(s): use \"none\" with one ring, \"passive\" or \"active\" with two")),
        _ => d.error(sp(&t.rrp_mode), "totem.rrp_mode", format!("{rrp_mode:?} is not an rrp_mode; use none, active or passive")),
    }
    Totem {
        version,
        secauth: *t.secauth.get_ref(),
        threads,
        rrp_mode,
        rings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_eth_names_make_xen_bridges() {
        assert_eq!(interface_problem("eth0"), None);
        assert_eq!(interface_problem("eth12"), None);
        for bad in ["bond0", "eth", "ethx", "em1", "eth-1"] {
            assert!(interface_problem(bad).is_some(), "{bad}");
        }
    }
}
