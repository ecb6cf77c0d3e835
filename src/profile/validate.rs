//! Raw profile → typed model, collecting every problem with its place.

use super::raw::*;
use crate::diag::Diagnostics;
use crate::model::*;
use ipnet::Ipv4Net;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::ops::Range;
use std::str::FromStr;

/// Characters that may appear in any value that lands in a generated file.
/// Control characters (newline, tab, NUL…) break the line they land on in a
/// kickstart, an ifcfg file or drbd.conf, so they are refused everywhere.
fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

/// Values written unquoted on a kickstart or config line: no blanks, quotes,
/// comment or escape characters.
fn is_plain_token(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "\"'`#\\;{}$<>&|".contains(c))
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A DNS label as luci and RFC 1123 accept it: letters, digits, '-', not at
/// either end, at most 63 characters. No '_'.
fn hostname_label_problem(label: &str) -> Option<String> {
    if label.is_empty() {
        return Some("is empty".into());
    }
    if label.len() > 63 {
        return Some("is longer than 63 characters".into());
    }
    if label.contains('_') {
        return Some("contains '_', which luci refuses in host names; use '-'".into());
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Some(format!("contains {c:?}; use only letters, digits and '-'"));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Some("starts or ends with '-'".into());
    }
    None
}

/// Parses "200M", "2G", "20GiB", "500GB", "1T" into MiB. Binary units (M, G,
/// T with or without "iB") are powers of 1024; "MB", "GB", "TB" are the
/// decimal units disk vendors print.
pub fn parse_size(s: &str) -> Result<Mib, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{s:?} has no unit; write e.g. \"200M\", \"20G\" or \"500GB\""))?;
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number followed by a unit, e.g. \"20G\""))?;
    let bytes_per: u128 = match unit {
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "T" | "TiB" => 1 << 40,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        _ => {
            return Err(format!(
                "{s:?} has an unknown unit {unit:?}; use M, G, T (binary) or MB, GB, TB (decimal)"
            ))
        }
    };
    let mib = (u128::from(n) * bytes_per) >> 20;
    if n == 0 {
        return Err(format!("{s:?} is zero"));
    }
    u64::try_from(mib)
        .map(Mib)
        .map_err(|_| format!("{s:?} is too large"))
}

fn parse_mac(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    if parts.len() != 6
        || parts
            .iter()
            .any(|p| p.len() != 2 || !p.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return None;
    }
    Some(parts.join(":").to_ascii_uppercase())
}

fn sp<T>(v: &S<T>) -> Range<usize> {
    v.span()
}

/// Everything validation produces.
pub struct Validated {
    pub cluster: Cluster,
    /// Fence device name → where its password comes from.
    pub passwd_sources: Vec<(String, PasswdSource, Range<usize>)>,
    pub key_file: Option<(String, Range<usize>)>,
}

#[derive(Debug, Clone)]
pub enum PasswdSource {
    File(String),
    Env(String),
}

pub fn validate(raw: &RawProfile, d: &mut Diagnostics) -> Option<Validated> {
    let c = raw.cluster.get_ref();

    // --- cluster -----------------------------------------------------------
    let platform = Platform::from_id(c.platform.get_ref()).or_else(|| {
        let known: Vec<_> = Platform::ALL.iter().map(|p| p.id()).collect();
        d.error(
            sp(&c.platform),
            "cluster.platform",
            format!(
                "unknown platform {:?}; known: {}",
                c.platform.get_ref(),
                known.join(", ")
            ),
        );
        None
    });
    let name = c.name.get_ref().clone();
    if !is_name(&name) || name.len() > 16 {
        d.error(
            sp(&c.name),
            "cluster.name",
            format!("{name:?} is not a valid cluster name: cman and the GFS2 lock table take 1-16 characters, a letter first, then letters, digits, '-' or '_'"),
        );
    }
    let domain = c.domain.get_ref().clone();
    if domain.is_empty()
        || domain
            .split('.')
            .any(|l| hostname_label_problem(l).is_some())
    {
        d.error(
            sp(&c.domain),
            "cluster.domain",
            format!("{domain:?} is not a DNS domain: dot-separated labels of letters, digits and '-' (no '_')"),
        );
    }
    let post_join_delay: u32 = int_in(d, &c.post_join_delay, "cluster.post_join_delay", 0, 3600);
    let config_version = c.config_version.as_ref().map_or(1, |v| {
        int_in(d, v, "cluster.config_version", 1, u32::MAX as i64)
    });

    // --- install -----------------------------------------------------------
    let i = raw.install.get_ref();
    let url = url_value(d, &i.url, "install.url");
    let overlay_url = url_value(d, &i.overlay_url, "install.overlay_url");
    let extras_url = match &i.extras_url {
        Some(e) => url_value(d, e, "install.extras_url"),
        None if url.contains("/os/") => url.replacen("/os/", "/extras/", 1),
        None => {
            d.error(sp(&i.url), "install.extras_url", "drbd83 and kmod-drbd83-xen come from CentOS extras: give install.extras_url (it cannot be derived from an install.url without /os/)");
            String::new()
        }
    };
    let timezone = token(
        d,
        &i.timezone,
        "install.timezone",
        "a zone name such as \"America/Toronto\"",
    );
    let lang = token(
        d,
        &i.lang,
        "install.lang",
        "a locale such as \"en_US.UTF-8\"",
    );
    let keyboard = token(
        d,
        &i.keyboard,
        "install.keyboard",
        "a keymap such as \"us\"",
    );
    let rph = i.root_password_hash.get_ref();
    if !(rph.starts_with("$1$") || rph.starts_with("$5$") || rph.starts_with("$6$"))
        || !is_plain_token(&rph.replace('$', ""))
    {
        d.error(
            sp(&i.root_password_hash),
            "install.root_password_hash",
            "must be a crypt(3) hash (\"$1$…\", \"$5$…\" or \"$6$…\", e.g. from `openssl passwd -1`), never a plain password",
        );
    }

    // --- dom0 ----------------------------------------------------------------
    let dom0 = raw.dom0.get_ref();
    let dom0_memory = dom0.memory.get_ref().clone();
    if !dom0_memory
        .strip_suffix(['M', 'G'])
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && n != "0")
    {
        d.error(
            sp(&dom0.memory),
            "dom0.memory",
            format!("{dom0_memory:?} is not a Xen dom0_mem value; write a number followed by M or G, e.g. \"512M\""),
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

    // --- disks ---------------------------------------------------------------
    let k = raw.disks.get_ref();
    let mut devices = Vec::new();
    let mut seen_dev = BTreeSet::new();
    for (n, dev) in k.devices.get_ref().iter().enumerate() {
        let key = format!("disks.devices[{n}]");
        let v = dev.get_ref();
        if v.is_empty()
            || v.len() > 32
            || !v.chars().all(|c| c.is_ascii_alphanumeric())
            || v.starts_with(|c: char| c.is_ascii_digit())
        {
            d.error(
                sp(dev),
                &key,
                format!("{v:?} is not a disk name as the kernel names it, e.g. \"sda\" (no /dev/)"),
            );
        } else if !seen_dev.insert(v.clone()) {
            d.error(sp(dev), &key, format!("disk {v:?} is listed twice"));
        }
        devices.push(v.clone());
    }
    if devices.is_empty() {
        d.error(
            sp(&k.devices),
            "disks.devices",
            "list at least one disk, e.g. [\"sda\", \"sdb\"]",
        );
    }
    let disk_size = k.size.as_ref().and_then(|s| size(d, s, "disks.size"));
    let boot = size(d, &k.boot_size, "disks.boot_size");
    let swap = size(d, &k.swap_size, "disks.swap_size");
    let root = size(d, &k.root_size, "disks.root_size");
    let drbd_size = size(d, &k.drbd_size, "disks.drbd_size");
    if let (Some(total), Some(b), Some(s), Some(r), Some(dr)) =
        (disk_size, boot, swap, root, drbd_size)
    {
        // The PV loses some space to LVM metadata and extent rounding (EL5
        // anaconda uses 32 MiB extents): keep one extent per LV plus 1% spare.
        let pv = total.0.saturating_sub(b.0 + 1);
        let need = s.0 + r.0 + dr.0 + 3 * 32 + 4;
        let usable = pv - pv / 100;
        if need > usable {
            d.error(
                sp(k.size.as_ref().unwrap_or(&k.drbd_size)),
                "disks.size",
                format!(
                    "the layout does not fit: /boot {} MiB + swap {} MiB + / {} MiB + DRBD {} MiB needs about {} MiB, the smallest disk gives {} MiB (usable after LVM overhead: {} MiB); shrink drbd_size or give the real disk size",
                    b.0, s.0, r.0, dr.0, need + b.0, total.0, usable + b.0
                ),
            );
        }
    }
    let vg_prefix = k.vg_prefix.as_ref().map_or_else(
        || "an-lvm".to_string(),
        |v| {
            if !is_name(v.get_ref()) {
                d.error(
                    sp(v),
                    "disks.vg_prefix",
                    "a VG name prefix takes letters, digits, '-' and '_', a letter first",
                );
            }
            v.get_ref().clone()
        },
    );

    // --- networks ------------------------------------------------------------
    let nets = &raw.networks;
    let mut networks = Vec::new();
    let mut seen_if: BTreeMap<String, NetRole> = BTreeMap::new();
    for (role, n) in [
        (NetRole::Internet, &nets.internet),
        (NetRole::Drbd, &nets.drbd),
        (NetRole::BackChannel, &nets.back_channel),
    ] {
        let base = format!("networks.{}", role.key());
        let n = n.get_ref();
        let interface = n.interface.get_ref().clone();
        let vifnum = interface
            .strip_prefix("eth")
            .and_then(|x| x.parse::<u32>().ok());
        if vifnum.is_none() {
            d.error(sp(&n.interface), &format!("{base}.interface"), format!("{interface:?} is not an ethN interface name (e.g. \"eth0\"); Xen's network-bridge renames ethN to pethN and makes xenbrN"));
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
        if let (Some(subnet), Some(vifnum)) = (subnet, vifnum) {
            networks.push(Network {
                role,
                interface: interface.clone(),
                subnet,
                network: subnet.network(),
                netmask: subnet.netmask(),
                broadcast: subnet.broadcast(),
                gateway,
                dns,
                bridge: format!("xenbr{vifnum}"),
                vifnum,
            });
        }
    }
    networks.sort_by_key(|n| n.vifnum);
    let net_of = |role: NetRole| networks.iter().find(|n| n.role == role);

    // --- nodes ---------------------------------------------------------------
    let raw_nodes = raw.nodes.get_ref();
    if raw_nodes.len() != 2 {
        d.error(
            sp(&raw.nodes),
            "nodes",
            format!(
                "a two-node cluster needs exactly two [[nodes]]; this profile has {}",
                raw_nodes.len()
            ),
        );
    }
    let device_names: BTreeSet<String> = raw
        .fence_devices
        .get_ref()
        .iter()
        .map(|f| f.get_ref().name.get_ref().clone())
        .collect();
    let mut nodes = Vec::new();
    let mut seen_names = BTreeMap::new();
    let mut seen_ids = BTreeMap::new();
    let mut seen_macs = BTreeMap::new();
    let mut seen_ips = BTreeMap::new();
    for (idx, rn) in raw_nodes.iter().enumerate() {
        let base = format!("nodes[{idx}]");
        let rn = rn.get_ref();
        let nname = rn.name.get_ref().clone();
        let fqdn = format!("{nname}.{domain}");
        if nname.contains('.') {
            d.error(
                sp(&rn.name),
                &format!("{base}.name"),
                format!("{nname:?}: give the short name; the FQDN is made as name + \".\" + cluster.domain"),
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
        if let Some(first) = seen_names.insert(nname.clone(), idx) {
            d.error(
                sp(&rn.name),
                &format!("{base}.name"),
                format!("node name {nname:?} is also nodes[{first}].name"),
            );
        }
        let id: u32 = int_in(d, &rn.id, &format!("{base}.id"), 1, 255);
        if let Some(first) = seen_ids.insert(id, idx) {
            d.error(
                sp(&rn.id),
                &format!("{base}.id"),
                format!("node id {id} is also nodes[{first}].id"),
            );
        }

        let mut nics = Vec::new();
        for key in rn.mac.get_ref().keys() {
            if !networks.iter().any(|n| &n.interface == key) {
                d.error(
                    sp(&rn.mac),
                    &format!("{base}.mac.{key}"),
                    format!(
                        "no network uses interface {key:?}; the interfaces are {}",
                        networks
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
                    format!(
                        "unknown network {key:?}; the networks are internet, drbd, back_channel"
                    ),
                );
            }
        }
        for net in &networks {
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
                        if let Some(first) = seen_macs.insert(mac.clone(), mkey.clone()) {
                            d.error(sp(m), &mkey, format!("MAC {mac} is also {first}"));
                        }
                        Some(mac)
                    }
                },
            };
            let ip = match rn.ip.get_ref().get(net.role.key()) {
                None => {
                    d.error(sp(&rn.ip), &ikey, format!("missing: give this node's address on the {} network ({})", net.role.key(), net.subnet));
                    None
                }
                Some(a) => ip_value(d, a, &ikey).inspect(|ip| {
                    let s = net.subnet;
                    if !s.contains(ip) {
                        d.error(sp(a), &ikey, format!("{ip} is outside networks.{}.subnet {s}", net.role.key()));
                    } else if *ip == s.network() || *ip == s.broadcast() {
                        d.error(sp(a), &ikey, format!("{ip} is the network or broadcast address of {s}; give a host address"));
                    } else if Some(*ip) == net.gateway {
                        d.error(sp(a), &ikey, format!("{ip} is the gateway of networks.{}", net.role.key()));
                    }
                    if let Some(first) = seen_ips.insert(*ip, ikey.clone()) {
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

        // Fence methods, kept in order; consecutive entries with the same
        // method name are one method with several devices.
        let mut fence: Vec<FenceMethod> = Vec::new();
        match &rn.fence {
            None => d.error(sp(&raw.nodes.get_ref()[idx]), &format!("{base}.fence"), "this node has no fence method; a cluster without fencing hangs or corrupts data when a node dies: add fence = [ { method = \"...\", device = \"...\", port = \"...\" } ]"),
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
                    if !device_names.contains(&device) {
                        d.error(sp(&f.device), &format!("{fkey}.device"), format!("no [[fence_devices]] is named {device:?}; defined: {}", if device_names.is_empty() { "none".to_string() } else { device_names.iter().cloned().collect::<Vec<_>>().join(", ") }));
                    }
                    let port = f.port.as_ref().map(|p| xml_text(d, p, &format!("{fkey}.port")));
                    let action = f.action.as_ref().map(|a| {
                        let v = a.get_ref();
                        if !["off", "reboot", "on", "disable", "enable"].contains(&v.as_str()) {
                            d.error(sp(a), &format!("{fkey}.action"), format!("{v:?} is not a fence action; use \"off\" or \"reboot\""));
                        }
                        v.clone()
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
        nics.sort_by(|a, b| a.interface.cmp(&b.interface));
        nodes.push(Node {
            name: nname,
            fqdn,
            id,
            nics,
            fence,
            vg: format!("{vg_prefix}{id:02}"),
        });
    }

    // --- fence devices -------------------------------------------------------
    let mut fence_devices = Vec::new();
    let mut passwd_sources = Vec::new();
    let mut seen_dev_names = BTreeSet::new();
    for (j, fd) in raw.fence_devices.get_ref().iter().enumerate() {
        let base = format!("fence_devices[{j}]");
        let fd = fd.get_ref();
        let fname = fd.name.get_ref().clone();
        if !is_name(&fname) {
            d.error(
                sp(&fd.name),
                &format!("{base}.name"),
                format!(
                    "{fname:?} is not a device name: letters, digits, '-' and '_', a letter first"
                ),
            );
        }
        if !seen_dev_names.insert(fname.clone()) {
            d.error(
                sp(&fd.name),
                &format!("{base}.name"),
                format!("fence device {fname:?} is defined twice"),
            );
        }
        let agent = fd.agent.get_ref().clone();
        if !agent.starts_with("fence_") || !is_name(&agent) {
            d.error(
                sp(&fd.agent),
                &format!("{base}.agent"),
                format!(
                    "{agent:?} is not a fence agent name such as \"fence_na\" or \"fence_ipmilan\""
                ),
            );
        }
        let mut attrs = Vec::new();
        if let Some(v) = &fd.ipaddr {
            attrs.push((
                "ipaddr".to_string(),
                xml_text(d, v, &format!("{base}.ipaddr")),
            ));
        }
        if let Some(v) = &fd.login {
            attrs.push((
                "login".to_string(),
                xml_text(d, v, &format!("{base}.login")),
            ));
        }
        if let Some(p) = &fd.passwd {
            d.error(sp(p), &format!("{base}.passwd"), "an inline password is not allowed in a profile; put it in a file and name it with passwd_file = \"...\" (relative to the profile), or name an environment variable with passwd_env = \"...\"");
        }
        let mut source = None;
        match (&fd.passwd_file, &fd.passwd_env) {
            (Some(f), Some(_)) => d.error(
                sp(f),
                &format!("{base}.passwd_file"),
                "give passwd_file or passwd_env, not both",
            ),
            (Some(f), None) => {
                if f.get_ref().is_empty() || has_control(f.get_ref()) {
                    d.error(sp(f), &format!("{base}.passwd_file"), "must be a file path");
                } else {
                    source = Some(PasswdSource::File(f.get_ref().clone()));
                    passwd_sources.push((
                        fname.clone(),
                        PasswdSource::File(f.get_ref().clone()),
                        sp(f),
                    ));
                }
            }
            (None, Some(e)) => {
                let v = e.get_ref();
                if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    d.error(
                        sp(e),
                        &format!("{base}.passwd_env"),
                        format!("{v:?} is not an environment variable name"),
                    );
                } else {
                    source = Some(PasswdSource::Env(v.clone()));
                    passwd_sources.push((fname.clone(), PasswdSource::Env(v.clone()), sp(e)));
                }
            }
            (None, None) => {}
        }
        if let Some(opts) = &fd.options {
            for (ok, ov) in opts.get_ref() {
                let okey = format!("{base}.options.{ok}");
                let reserved = [
                    "name",
                    "agent",
                    "ipaddr",
                    "login",
                    "passwd",
                    "passwd_script",
                ];
                if !ok
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    || ok.is_empty()
                {
                    d.error(
                        sp(ov),
                        &okey,
                        format!(
                            "{ok:?} is not an attribute name: lower-case letters, digits and '_'"
                        ),
                    );
                    continue;
                }
                if reserved.contains(&ok.as_str()) {
                    d.error(sp(ov), &okey, format!("{ok:?} has its own key (or, for passwords, passwd_file / passwd_env); it cannot be an extra option"));
                    continue;
                }
                let text = match ov.get_ref() {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Integer(n) => n.to_string(),
                    toml::Value::Boolean(b) => {
                        if *b {
                            "1".into()
                        } else {
                            "0".into()
                        }
                    }
                    _ => {
                        d.error(
                            sp(ov),
                            &okey,
                            "an option value must be a string, a whole number or true/false",
                        );
                        continue;
                    }
                };
                if has_control(&text) {
                    d.error(
                        sp(ov),
                        &okey,
                        "contains a control character (newline, tab…); it would break cluster.conf",
                    );
                    continue;
                }
                attrs.push((ok.clone(), text));
            }
        }
        fence_devices.push(FenceDevice {
            name: fname,
            agent,
            attrs,
            passwd_source: source.map(|s| match s {
                PasswdSource::File(f) => format!("file {f}"),
                PasswdSource::Env(e) => format!("environment variable {e}"),
            }),
        });
    }
    // Two nodes that lose each other fence at the same moment unless one of
    // them waits: warn when no delay is set anywhere.
    let any_delay = nodes.iter().any(|n| {
        n.fence
            .iter()
            .any(|m| m.devices.iter().any(|r| r.delay.is_some_and(|x| x > 0)))
    }) || fence_devices
        .iter()
        .any(|f| f.attrs.iter().any(|(k, v)| k == "delay" && v != "0"));
    if !any_delay && !nodes.is_empty() {
        d.warn(
            sp(&raw.fence_devices),
            "fence_devices",
            "no fence device has a delay for either node: when the two nodes lose each other both fence at once and may kill each other; give one node's fence entry delay = 15",
        );
    }

    // --- totem ---------------------------------------------------------------
    let t = raw.totem.get_ref();
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
            if let Some(net) = net_of(role) {
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
    let rrp_mode = t.rrp_mode.get_ref().clone();
    match (rrp_mode.as_str(), nrings) {
        ("none", 1) | ("active", 2) | ("passive", 2) => {}
        ("none" | "active" | "passive", n) => d.error(sp(&t.rrp_mode), "totem.rrp_mode", format!("rrp_mode {rrp_mode:?} does not fit {n} ring(s): use \"none\" with one ring, \"passive\" or \"active\" with two")),
        _ => d.error(sp(&t.rrp_mode), "totem.rrp_mode", format!("{rrp_mode:?} is not an rrp_mode; use none, active or passive")),
    }

    // --- drbd ----------------------------------------------------------------
    let r = raw.drbd.get_ref();
    let resource = r.resource.get_ref().clone();
    if !is_name(&resource) {
        d.error(
            sp(&r.resource),
            "drbd.resource",
            format!(
                "{resource:?} is not a resource name: letters, digits, '-' and '_', a letter first"
            ),
        );
    }
    let ddev = r.device.get_ref().clone();
    let minor = ddev
        .strip_prefix("/dev/drbd")
        .and_then(|m| m.parse::<u32>().ok())
        .filter(|m| *m < 256);
    if minor.is_none() {
        d.error(
            sp(&r.device),
            "drbd.device",
            format!("{ddev:?} is not a DRBD device; write /dev/drbdN, e.g. \"/dev/drbd0\""),
        );
    }
    let dport: u16 = int_in(d, &r.port, "drbd.port", 1, 65535);
    let protocol = r.protocol.get_ref().clone();
    let two_primaries = r.allow_two_primaries.as_ref().is_none_or(|b| *b.get_ref());
    if !["A", "B", "C"].contains(&protocol.as_str()) {
        d.error(
            sp(&r.protocol),
            "drbd.protocol",
            format!("{protocol:?} is not a DRBD protocol; use \"C\""),
        );
    } else if protocol != "C" && two_primaries {
        d.error(
            sp(&r.protocol),
            "drbd.protocol",
            "dual-primary DRBD (allow-two-primaries) needs protocol \"C\"",
        );
    }
    let sync_rate = r.sync_rate.get_ref().clone();
    let rate_ok = sync_rate
        .strip_suffix(['K', 'M', 'G', 'k'])
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    if !rate_ok {
        d.error(sp(&r.sync_rate), "drbd.sync_rate", format!("{sync_rate:?} is not a syncer rate; write e.g. \"33M\" (bytes per second, K/M/G suffix)"));
    }
    let dnet = NetRole::from_key(r.network.get_ref());
    if dnet.is_none() {
        d.error(
            sp(&r.network),
            "drbd.network",
            format!("unknown network {:?}; use drbd", r.network.get_ref()),
        );
    }
    let primary = r.primary.get_ref().clone();
    if !nodes.iter().any(|n| n.name == primary || n.fqdn == primary) {
        d.error(
            sp(&r.primary),
            "drbd.primary",
            format!(
                "{primary:?} is not a node of this profile; name one of: {}",
                nodes
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let primary_short = nodes
        .iter()
        .find(|n| n.fqdn == primary)
        .map_or(primary.clone(), |n| n.name.clone());

    // --- clvm ----------------------------------------------------------------
    let cl = raw.clvm.get_ref();
    let cvg = cl.vg.get_ref().clone();
    if !is_name(&cvg) {
        d.error(
            sp(&cl.vg),
            "clvm.vg",
            format!("{cvg:?} is not a VG name: letters, digits, '-' and '_', a letter first"),
        );
    }
    if nodes.iter().any(|n| n.vg == cvg) {
        d.error(
            sp(&cl.vg),
            "clvm.vg",
            format!("{cvg:?} is also a node's local VG"),
        );
    }
    let mut volumes = Vec::new();
    let mut total = 0u64;
    let mut seen_vol = BTreeSet::new();
    let mut seen_mp = BTreeSet::new();
    for (j, v) in cl.volumes.get_ref().iter().enumerate() {
        let base = format!("clvm.volumes[{j}]");
        let v = v.get_ref();
        let vname = v.name.get_ref().clone();
        if !is_name(&vname) || vname.len() > 30 {
            d.error(sp(&v.name), &format!("{base}.name"), format!("{vname:?} is not an LV name usable as a GFS2 lock table name: 1-30 letters, digits, '-' or '_', a letter first"));
        }
        if !seen_vol.insert(vname.clone()) {
            d.error(
                sp(&v.name),
                &format!("{base}.name"),
                format!("volume {vname:?} is defined twice"),
            );
        }
        let vsize = size(d, &v.size, &format!("{base}.size"));
        total += vsize.map_or(0, |s| s.0);
        let gfs2 = v.gfs2.as_ref().map(|g| {
            let g = g.get_ref();
            let mp = g.mountpoint.get_ref().clone();
            if !mp.starts_with('/') || mp == "/" || !is_plain_token(&mp) {
                d.error(sp(&g.mountpoint), &format!("{base}.gfs2.mountpoint"), format!("{mp:?} is not an absolute mount point without blanks or special characters"));
            }
            if !seen_mp.insert(mp.clone()) {
                d.error(sp(&g.mountpoint), &format!("{base}.gfs2.mountpoint"), format!("mount point {mp} is used twice"));
            }
            let journals: u32 = int_in(d, &g.journals, &format!("{base}.gfs2.journals"), 1, 64);
            if (journals as usize) < raw_nodes.len() {
                d.error(sp(&g.journals), &format!("{base}.gfs2.journals"), format!("GFS2 needs one journal per node that mounts it: at least {}", raw_nodes.len()));
            }
            Gfs2 { mountpoint: mp, journals, lock_table: format!("{name}:{vname}") }
        });
        if let Some(s) = vsize {
            volumes.push(Volume {
                name: vname,
                size: s,
                gfs2,
            });
        }
    }
    if let Some(dr) = drbd_size {
        // DRBD keeps about 1/32768 of the device plus 1 MiB for internal
        // metadata, and the PV on top loses one 4 MiB extent per LV.
        let usable = dr.0 - dr.0 / 32768 - 1 - 4 * (volumes.len() as u64 + 1);
        if total > usable {
            d.error(sp(&cl.volumes), "clvm.volumes", format!("the volumes need {total} MiB but the DRBD device gives about {usable} MiB (disks.drbd_size minus metadata)"));
        }
    }

    // --- firstboot, pxe ----------------------------------------------------------
    let fb = raw.firstboot.as_ref().map(|f| f.get_ref());
    let secs = |d: &mut Diagnostics, v: Option<&S<i64>>, key: &str, default: u64| {
        v.map_or(default, |v| int_in::<u64>(d, v, key, 1, 86400))
    };
    let firstboot = Firstboot {
        port: fb
            .and_then(|f| f.port.as_ref())
            .map_or(7790, |p| int_in::<u16>(d, p, "firstboot.port", 1, 65535)),
        skip_initial_sync: fb
            .and_then(|f| f.skip_initial_sync.as_ref())
            .is_some_and(|b| *b.get_ref()),
        peer_timeout_secs: secs(
            d,
            fb.and_then(|f| f.peer_timeout.as_ref()),
            "firstboot.peer_timeout",
            3600,
        ),
        cman_timeout_secs: secs(
            d,
            fb.and_then(|f| f.cman_timeout.as_ref()),
            "firstboot.cman_timeout",
            u64::from(post_join_delay.max(30)) * 2,
        ),
        drbd_connect_timeout_secs: secs(
            d,
            fb.and_then(|f| f.drbd_connect_timeout.as_ref()),
            "firstboot.drbd_connect_timeout",
            600,
        ),
        drbd_primary_timeout_secs: secs(
            d,
            fb.and_then(|f| f.drbd_primary_timeout.as_ref()),
            "firstboot.drbd_primary_timeout",
            600,
        ),
        barrier_timeout_secs: secs(
            d,
            fb.and_then(|f| f.barrier_timeout.as_ref()),
            "firstboot.barrier_timeout",
            1800,
        ),
    };
    if firstboot.port == dport {
        d.error(
            sp(&r.port),
            "drbd.port",
            "the DRBD port and firstboot.port must differ",
        );
    }
    let key_file = fb
        .and_then(|f| f.key_file.as_ref())
        .map(|k| (k.get_ref().clone(), sp(k)));

    let px = raw.pxe.as_ref().map(|p| p.get_ref());
    let boot_network = px
        .and_then(|p| p.boot_network.as_ref())
        .map_or(NetRole::BackChannel, |b| {
            NetRole::from_key(b.get_ref()).unwrap_or_else(|| {
                d.error(
                    sp(b),
                    "pxe.boot_network",
                    format!(
                        "unknown network {:?}; use internet, drbd or back_channel",
                        b.get_ref()
                    ),
                );
                NetRole::BackChannel
            })
        });
    let pxe_path = |d: &mut Diagnostics, v: Option<&S<String>>, key: &str, default: &str| {
        v.map_or(default.to_string(), |v| {
            let s = v.get_ref();
            if !is_plain_token(s) || s.starts_with('/') || s.split('/').any(|c| c == "..") {
                d.error(
                    sp(v),
                    key,
                    format!("{s:?} must be a path relative to install.url, without blanks or '..'"),
                );
            }
            s.clone()
        })
    };
    let pxe = Pxe {
        boot_network,
        kernel: pxe_path(
            d,
            px.and_then(|p| p.kernel.as_ref()),
            "pxe.kernel",
            "images/pxeboot/vmlinuz",
        ),
        initrd: pxe_path(
            d,
            px.and_then(|p| p.initrd.as_ref()),
            "pxe.initrd",
            "images/pxeboot/initrd.img",
        ),
    };

    if d.has_errors() {
        return None;
    }
    let cluster = Cluster {
        platform: platform?,
        name,
        domain,
        post_join_delay,
        config_version,
        install: Install {
            url,
            overlay_url,
            extras_url,
            timezone,
            timezone_utc: i.timezone_utc.as_ref().is_none_or(|b| *b.get_ref()),
            lang,
            keyboard,
            root_password_hash: rph.clone(),
        },
        dom0_memory,
        runlevel,
        disks: Disks {
            devices,
            size: disk_size,
            boot: boot?,
            swap: swap?,
            root: root?,
            drbd: drbd_size?,
        },
        networks,
        nodes,
        fence_devices,
        totem: Totem {
            version,
            secauth: *t.secauth.get_ref(),
            threads,
            rrp_mode,
            rings,
        },
        drbd: Drbd {
            resource,
            device: ddev,
            minor: minor?,
            port: dport,
            protocol,
            sync_rate,
            network: dnet?,
            primary: primary_short,
            allow_two_primaries: two_primaries,
            become_primary_on_both: r
                .become_primary_on_both
                .as_ref()
                .is_none_or(|b| *b.get_ref()),
            fencing: r.fencing.as_ref().is_none_or(|b| *b.get_ref()),
            usage_count: r.usage_count.as_ref().is_some_and(|b| *b.get_ref()),
        },
        clvm: Clvm { vg: cvg, volumes },
        firstboot,
        pxe,
    };
    Some(Validated {
        cluster,
        passwd_sources,
        key_file,
    })
}

fn int_in<T: TryFrom<i64> + Default>(
    d: &mut Diagnostics,
    v: &S<i64>,
    key: &str,
    lo: i64,
    hi: i64,
) -> T {
    let n = *v.get_ref();
    if n < lo || n > hi {
        d.error(
            sp(v),
            key,
            format!("{n} is out of range; expected {lo}..={hi}"),
        );
        return T::default();
    }
    T::try_from(n).unwrap_or_default()
}

fn size(d: &mut Diagnostics, v: &S<String>, key: &str) -> Option<Mib> {
    parse_size(v.get_ref())
        .map_err(|m| d.error(sp(v), key, m))
        .ok()
}

fn ip_value(d: &mut Diagnostics, v: &S<String>, key: &str) -> Option<Ipv4Addr> {
    Ipv4Addr::from_str(v.get_ref())
        .map_err(|_| {
            d.error(
                sp(v),
                key,
                format!(
                    "{:?} is not an IPv4 address (dotted quad, e.g. \"10.0.1.71\")",
                    v.get_ref()
                ),
            )
        })
        .ok()
}

fn subnet_value(d: &mut Diagnostics, v: &S<String>, key: &str) -> Option<Ipv4Net> {
    let s = v.get_ref();
    let net = match Ipv4Net::from_str(s) {
        Ok(n) => n,
        Err(_) => {
            d.error(
                sp(v),
                key,
                format!("{s:?} is not a subnet in CIDR form, e.g. \"10.0.1.0/24\""),
            );
            return None;
        }
    };
    if net.addr() != net.network() {
        d.error(sp(v), key, format!("{s:?} has host bits set; write the network address {} (openais's bindnetaddr must be the network address)", net.trunc()));
        return None;
    }
    if net.prefix_len() > 30 {
        d.error(
            sp(v),
            key,
            format!("{s:?} is too small for two nodes; use a /30 or larger"),
        );
        return None;
    }
    Some(net)
}

fn token(d: &mut Diagnostics, v: &S<String>, key: &str, example: &str) -> String {
    let s = v.get_ref();
    if !is_plain_token(s) {
        d.error(sp(v), key, format!("{s:?} cannot go on a kickstart line (blank, quote, control or shell character); expected {example}"));
    }
    s.clone()
}

fn url_value(d: &mut Diagnostics, v: &S<String>, key: &str) -> String {
    let s = v.get_ref();
    if !(s.starts_with("http://") || s.starts_with("https://") || s.starts_with("ftp://"))
        || !is_plain_token(s)
        || s.len() < 10
    {
        d.error(sp(v), key, format!("{s:?} is not a usable URL: http://, https:// or ftp://, no blanks, quotes or shell characters"));
    }
    s.trim_end_matches('/').to_string()
}

/// A value that lands in an XML attribute: escaping handles <, >, &, quotes;
/// control characters cannot be escaped in XML 1.0, so they are refused.
fn xml_text(d: &mut Diagnostics, v: &S<String>, key: &str) -> String {
    let s = v.get_ref();
    if has_control(s) {
        d.error(sp(v), key, "contains a control character (newline, tab…), which cannot be written into cluster.conf");
    }
    s.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_both_unit_systems() {
        assert_eq!(parse_size("200M").unwrap(), Mib(200));
        assert_eq!(parse_size("2G").unwrap(), Mib(2048));
        assert_eq!(parse_size("20GiB").unwrap(), Mib(20480));
        // 500 GB = 500e9 bytes = 476837.158 MiB, rounded down.
        assert_eq!(parse_size("500GB").unwrap(), Mib(476837));
        assert!(parse_size("20").is_err());
        assert!(parse_size("2.5G").is_err());
        assert!(parse_size("0G").is_err());
        assert!(parse_size("99999999999999T").is_err());
    }

    #[test]
    fn macs_normalise_to_upper_colon_form() {
        assert_eq!(
            parse_mac("90:e6:ba:71:82:d8").as_deref(),
            Some("90:E6:BA:71:82:D8")
        );
        assert_eq!(
            parse_mac("90-E6-BA-71-82-D8").as_deref(),
            Some("90:E6:BA:71:82:D8")
        );
        assert_eq!(parse_mac("90:E6:BA:71:82"), None);
        assert_eq!(parse_mac("90:E6:BA:71:82:ZZ"), None);
    }

    #[test]
    fn hostname_rules() {
        assert!(hostname_label_problem("an-node01").is_none());
        assert!(hostname_label_problem("an_node01").unwrap().contains('_'));
        assert!(hostname_label_problem("-a").is_some());
    }
}
