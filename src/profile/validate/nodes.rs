//! `[[nodes]]`: the two nodes, each with a NIC on every network and its
//! fence methods.

use crate::check::{hostname_label_problem, int_in, ip_value, is_name, parse_mac, sp, xml_text, S};
use crate::diag::Diagnostics;
use crate::model::{FenceMethod, FenceRef, NetRole, Network, Nic, Node};
use crate::profile::raw::RawNode;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::ops::Range;

/// What every node is checked against.
pub struct Context<'a> {
    /// The validated networks: each node has one NIC on each.
    pub networks: &'a [Network],
    /// The names of `[[fence_devices]]`, which fence methods refer to.
    pub device_names: &'a BTreeSet<String>,
    /// `cluster.domain`: a node's FQDN is name.domain.
    pub domain: &'a str,
    /// `disks.vg_prefix`: a node's local VG is the prefix and its id.
    pub vg_prefix: &'a str,
    /// The fence actions the platform knows.
    pub fence_actions: &'a [&'a str],
    /// Whether a fence device is one resource for every node it fences
    /// (`platform::Spec::device_per_resource`).
    pub device_per_resource: bool,
}

/// One node's fence entry that names a device, for the checks across nodes.
struct DeviceUse {
    node: usize,
    key: String,
    port: Option<String>,
    action: Option<String>,
    span: Range<usize>,
}

/// Names, ids, MACs and addresses seen so far: each is one node's only.
#[derive(Default)]
struct Seen {
    names: BTreeMap<String, usize>,
    ids: BTreeMap<u32, usize>,
    macs: BTreeMap<String, String>,
    ips: BTreeMap<Ipv4Addr, String>,
    /// Fence device → the entries that name it.
    devices: BTreeMap<String, Vec<DeviceUse>>,
}

pub fn nodes(raw: &S<Vec<S<RawNode>>>, c: &Context<'_>, d: &mut Diagnostics) -> Vec<Node> {
    let raw_nodes = raw.get_ref();
    if raw_nodes.len() != 2 {
        // At the third node when there are more: that is where to cut.
        let at = raw_nodes.get(2).map_or_else(|| sp(raw), sp);
        let more = if raw_nodes.len() > 2 {
            " cman's two_node mode, DRBD's replication between two hosts and the cluster's quorum are set for two; for more machines make one profile per two-node cluster, in one folder, and build the folder (clusterkick build FOLDER/ --out DIR)"
        } else {
            ""
        };
        d.error(
            at,
            "nodes",
            format!(
                "a two-node cluster needs exactly two [[nodes]]; this profile has {}.{more}",
                raw_nodes.len()
            ),
        );
    }
    let mut seen = Seen::default();
    let nodes = raw_nodes
        .iter()
        .enumerate()
        .map(|(idx, rn)| node(idx, rn, c, &mut seen, d))
        .collect::<Vec<Node>>();
    if c.device_per_resource {
        shared_devices(&seen.devices, d);
    }
    if nodes.len() == 2 && nodes.iter().all(|n| n.replacement) {
        if let Some(r) = raw_nodes[1].get_ref().role.as_ref() {
            d.error(sp(r), "nodes[1].role", "both nodes are replacements, but a replacement joins a peer that holds the data: the node that survived is none (`clusterkick node rejoined PROFILE NODE` drops its role)");
        }
    }
    nodes
}

/// `role`: `initial` (absent: both nodes are new) or `replacement`.
fn role(base: &str, rn: &RawNode, d: &mut Diagnostics) -> bool {
    match rn.role.as_ref() {
        None => false,
        Some(r) => match r.get_ref().as_str() {
            "initial" => false,
            "replacement" => true,
            other => {
                d.error(sp(r), &format!("{base}.role"), format!("{other:?} is not a node role: \"replacement\" (new hardware for a dead node; its peer holds the data) or \"initial\" (both nodes are new; the same as no role)"));
                false
            }
        },
    }
}

/// A fence device that is one resource for every node it fences: the
/// entries naming it agree on the action, and a device that fences both
/// nodes is told which one (its port) by each entry.
fn shared_devices(uses: &BTreeMap<String, Vec<DeviceUse>>, d: &mut Diagnostics) {
    for (device, uses) in uses {
        let both = uses.iter().any(|u| u.node != uses[0].node);
        for u in uses {
            if both && u.port.is_none() {
                d.error(u.span.clone(), &format!("{}.port", u.key), format!("fence device {device:?} fences both nodes: give each node's entry the port (the name the device knows the node by), or give each node a device of its own"));
            }
            if u.action != uses[0].action {
                d.error(u.span.clone(), &format!("{}.action", u.key), format!("fence device {device:?} is one stonith device for every node it fences, so its action is one too: {} says {}, this entry {}", uses[0].key, uses[0].action.as_deref().unwrap_or("nothing (reboot)"), u.action.as_deref().unwrap_or("nothing (reboot)")));
            }
        }
    }
}

fn node(
    idx: usize,
    raw_node: &S<RawNode>,
    c: &Context<'_>,
    seen: &mut Seen,
    d: &mut Diagnostics,
) -> Node {
    let base = format!("nodes[{idx}]");
    let rn = raw_node.get_ref();
    let nname = rn.name.get_ref().clone();
    let fqdn = format!("{nname}.{}", c.domain);
    if nname.contains('.') {
        d.error(
            sp(&rn.name),
            &format!("{base}.name"),
            format!(
                "{nname:?}: give the short name; the FQDN is made as name + \".\" + cluster.domain"
            ),
        );
    } else if let Some(p) = hostname_label_problem(&nname) {
        d.error(
            sp(&rn.name),
            &format!("{base}.name"),
            format!("host name {nname:?} {p}"),
        );
    } else if fqdn.len() > 64 {
        d.error(
            sp(&rn.name),
            &format!("{base}.name"),
            format!("{fqdn} is longer than the 64 characters `uname -n` holds"),
        );
    }
    if let Some(first) = seen.names.insert(nname.clone(), idx) {
        d.error(
            sp(&rn.name),
            &format!("{base}.name"),
            format!("node name {nname:?} is also nodes[{first}].name"),
        );
    }
    let id: u32 = int_in(d, &rn.id, &format!("{base}.id"), 1, 255);
    if let Some(first) = seen.ids.insert(id, idx) {
        d.error(
            sp(&rn.id),
            &format!("{base}.id"),
            format!("node id {id} is also nodes[{first}].id"),
        );
    }
    let mut nics = nics(&base, rn, c, seen, d);
    let fence = fence_methods(idx, &base, raw_node, c, seen, d);
    let replacement = role(&base, rn, d);
    nics.sort_by(|a, b| a.interface.cmp(&b.interface));
    Node {
        name: nname,
        fqdn,
        id,
        nics,
        fence,
        vg: format!("{}{id:02}", c.vg_prefix),
        replacement,
    }
}

/// One NIC per network: its MAC by interface, its address by network.
fn nics(
    base: &str,
    rn: &RawNode,
    c: &Context<'_>,
    seen: &mut Seen,
    d: &mut Diagnostics,
) -> Vec<Nic> {
    let mut nics = Vec::new();
    for key in rn.mac.get_ref().keys() {
        if !c.networks.iter().any(|n| &n.interface == key) {
            d.error(
                sp(&rn.mac),
                &format!("{base}.mac.{key}"),
                format!(
                    "no network uses interface {key:?}; the interfaces are {}",
                    c.networks
                        .iter()
                        .map(|n| n.interface.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }
    for key in rn.ip.get_ref().keys() {
        if NetRole::from_key(key).is_none() {
            d.error(
                sp(&rn.ip),
                &format!("{base}.ip.{key}"),
                format!("unknown network {key:?}; the networks are internet, drbd, back_channel"),
            );
        }
    }
    for net in c.networks {
        let mkey = format!("{base}.mac.{}", net.interface);
        let ikey = format!("{base}.ip.{}", net.role.key());
        let mac = match rn.mac.get_ref().get(&net.interface) {
            None => {
                d.error(
                    sp(&rn.mac),
                    &mkey,
                    format!(
                        "missing: give the MAC address of {} (it becomes HWADDR in ifcfg-{})",
                        net.interface, net.interface
                    ),
                );
                None
            }
            Some(m) => match parse_mac(m.get_ref()) {
                None => {
                    d.error(sp(m), &mkey, format!("{:?} is not a MAC address; write six hex pairs, e.g. \"00:1B:21:72:96:E8\"", m.get_ref()));
                    None
                }
                Some(mac) => {
                    if let Some(first) = seen.macs.insert(mac.clone(), mkey.clone()) {
                        d.error(sp(m), &mkey, format!("MAC {mac} is also {first}"));
                    }
                    Some(mac)
                }
            },
        };
        let ip = match rn.ip.get_ref().get(net.role.key()) {
            None => {
                d.error(
                    sp(&rn.ip),
                    &ikey,
                    format!(
                        "missing: give this node's address on the {} network ({})",
                        net.role.key(),
                        net.subnet
                    ),
                );
                None
            }
            Some(a) => ip_value(d, a, &ikey).inspect(|ip| {
                let s = net.subnet;
                if !s.contains(ip) {
                    d.error(
                        sp(a),
                        &ikey,
                        format!("{ip} is outside networks.{}.subnet {s}", net.role.key()),
                    );
                } else if *ip == s.network() || *ip == s.broadcast() {
                    d.error(
                        sp(a),
                        &ikey,
                        format!(
                            "{ip} is the network or broadcast address of {s}; give a host address"
                        ),
                    );
                } else if Some(*ip) == net.gateway {
                    d.error(
                        sp(a),
                        &ikey,
                        format!("{ip} is the gateway of networks.{}", net.role.key()),
                    );
                }
                if let Some(first) = seen.ips.insert(*ip, ikey.clone()) {
                    d.error(sp(a), &ikey, format!("address {ip} is also {first}"));
                }
            }),
        };
        if let (Some(mac), Some(ip)) = (mac, ip) {
            nics.push(Nic {
                role: net.role,
                interface: net.interface.clone(),
                mac,
                ip,
            });
        }
    }
    nics
}

/// Fence methods, kept in order; consecutive entries with the same method
/// name are one method with several devices.
fn fence_methods(
    idx: usize,
    base: &str,
    raw_node: &S<RawNode>,
    c: &Context<'_>,
    seen: &mut Seen,
    d: &mut Diagnostics,
) -> Vec<FenceMethod> {
    let rn = raw_node.get_ref();
    let mut fence: Vec<FenceMethod> = Vec::new();
    match &rn.fence {
        None => d.error(sp(raw_node), &format!("{base}.fence"), "this node has no fence method; a cluster without fencing hangs or corrupts data when a node dies: add fence = [ { method = \"...\", device = \"...\", port = \"...\" } ]"),
        Some(list) if list.get_ref().is_empty() => d.error(sp(list), &format!("{base}.fence"), "this node has no fence method; add at least one"),
        Some(list) => {
            for (j, f) in list.get_ref().iter().enumerate() {
                let fkey = format!("{base}.fence[{j}]");
                let f = f.get_ref();
                let method = f.method.get_ref().clone();
                if !is_name(&method) {
                    d.error(sp(&f.method), &format!("{fkey}.method"), format!("{method:?} is not a method name: letters, digits, '-' and '_', a letter first"));
                }
                let device = f.device.get_ref().clone();
                if !c.device_names.contains(&device) {
                    d.error(sp(&f.device), &format!("{fkey}.device"), format!("no [[fence_devices]] is named {device:?}; defined: {}", if c.device_names.is_empty() { "none".to_string() } else { c.device_names.iter().cloned().collect::<Vec<_>>().join(", ") }));
                }
                let port = f.port.as_ref().map(|p| xml_text(d, p, &format!("{fkey}.port")));
                let action = f.action.as_ref().map(|a| {
                    let v = a.get_ref();
                    if !c.fence_actions.contains(&v.as_str()) {
                        d.error(sp(a), &format!("{fkey}.action"), format!("{v:?} is not a fence action; use \"off\" or \"reboot\""));
                    }
                    v.clone()
                });
                seen.devices.entry(device.clone()).or_default().push(DeviceUse {
                    node: idx,
                    key: fkey.clone(),
                    port: port.clone(),
                    action: action.clone(),
                    span: sp(&f.device),
                });
                let delay = f.delay.as_ref().map(|x| int_in::<u32>(d, x, &format!("{fkey}.delay"), 0, 600));
                let r = FenceRef { device, port, action, delay };
                match fence.last_mut() {
                    Some(m) if m.name == method => m.devices.push(r),
                    _ => {
                        if fence.iter().any(|m| m.name == method) {
                            d.error(sp(&f.method), &format!("{fkey}.method"), format!("method {method:?} appears again after another method; list a method's devices together"));
                        }
                        fence.push(FenceMethod { name: method, devices: vec![r] })
                    }
                }
            }
        }
    }
    fence
}
