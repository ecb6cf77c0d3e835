//! `[networks.*]`: the three networks, each on one NIC of every node.

use crate::check::{ip_value, sp, subnet_value};
use crate::diag::Diagnostics;
use crate::model::{NetRole, Network};
use crate::profile::raw::RawNetworks;
use std::collections::BTreeMap;

/// `interface_problem` is the platform's rule for NIC names; a network whose
/// NIC breaks it is left out (its diagnostic says why).
pub fn networks(
    raw: &RawNetworks,
    interface_problem: fn(&str) -> Option<String>,
    d: &mut Diagnostics,
) -> Vec<Network> {
    let mut networks = Vec::new();
    let mut seen_if: BTreeMap<String, NetRole> = BTreeMap::new();
    for (role, n) in [
        (NetRole::Internet, &raw.internet),
        (NetRole::Drbd, &raw.drbd),
        (NetRole::BackChannel, &raw.back_channel),
    ] {
        let base = format!("networks.{}", role.key());
        let n = n.get_ref();
        let interface = n.interface.get_ref().clone();
        let problem = interface_problem(&interface);
        if let Some(why) = &problem {
            d.error(sp(&n.interface), &format!("{base}.interface"), why);
        } else if let Some(other) = seen_if.insert(interface.clone(), role) {
            d.error(
                sp(&n.interface),
                &format!("{base}.interface"),
                format!("{interface} is already used by networks.{}", other.key()),
            );
        }
        let subnet = subnet_value(d, &n.subnet, &format!("{base}.subnet"));
        let gateway = n.gateway.as_ref().and_then(|g| {
            let ip = ip_value(d, g, &format!("{base}.gateway"))?;
            if let Some(net) = subnet {
                if !net.contains(&ip) || ip == net.network() || ip == net.broadcast() {
                    d.error(
                        sp(g),
                        &format!("{base}.gateway"),
                        format!("gateway {ip} is not a host address in {base}.subnet {net}"),
                    );
                }
            }
            Some(ip)
        });
        let dns = n.dns.as_ref().map_or_else(Vec::new, |list| {
            list.get_ref()
                .iter()
                .enumerate()
                .filter_map(|(j, a)| ip_value(d, a, &format!("{base}.dns[{j}]")))
                .collect()
        });
        if let (Some(subnet), None) = (subnet, problem) {
            networks.push(Network {
                role,
                interface,
                subnet,
                network: subnet.network(),
                netmask: subnet.netmask(),
                broadcast: subnet.broadcast(),
                gateway,
                dns,
            });
        }
    }
    networks.sort_by(|a, b| interface_order(&a.interface).cmp(&interface_order(&b.interface)));
    networks
}

/// NICs in the order the kernel numbers them: by name, then by the number
/// the name ends in (eth2 before eth10).
fn interface_order(name: &str) -> (&str, u64) {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    (stem, name[stem.len()..].parse().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interfaces_sort_by_their_number() {
        let mut names = vec!["eth10", "eth2", "eth0", "bond1"];
        names.sort_by_key(|n| interface_order(n));
        assert_eq!(names, ["bond1", "eth0", "eth2", "eth10"]);
    }
}
