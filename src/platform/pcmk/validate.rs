//! The pacemaker platforms' checks: `[corosync]` and `[pacemaker]`, the
//! NIC-name rule, and the family's payload made from the common sections
//! (stonith devices, bridges, LVM filter, CIB ids).

use super::model::{Bridge, Cib, Corosync, Level, Pcmk, Stonith, Storage, StorageVolume, Timeouts};
use super::raw::{RawCorosync, RawPacemaker};
use super::FENCE_DIR;
use crate::check::{int_in, sp, S};
use crate::diag::Diagnostics;
use crate::model::{Clvm, Disks, FenceDevice, NetRole, Network, Node};
use crate::platform::Common;
use std::collections::BTreeMap;

/// Bridges are named `br-<NIC>`, and Linux takes at most 15 characters.
const MAX_INTERFACE: usize = 12;

/// A NIC is named by a systemd .link file matching its MAC address
/// (`etc/systemd/network/`), so the name is the profile's. systemd.link(5):
/// a name the kernel itself might give ("eth0") races the kernel's naming.
pub fn interface_problem(interface: &str) -> Option<String> {
    let kernel_name = ["eth", "wlan", "ib", "usb"].iter().any(|p| {
        interface
            .strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    });
    let mut chars = interface.chars();
    if !matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        || !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        || interface.len() > MAX_INTERFACE
    {
        Some(format!("{interface:?} is not a NIC name for this platform: 1-{MAX_INTERFACE} lower-case letters, digits, '-' or '_', a letter first (the node's bridge for it is br-<name>, and Linux takes 15 characters)"))
    } else if kernel_name {
        Some(format!("{interface:?} is a name the kernel gives NICs itself, and renaming a NIC to one races the kernel's own naming (systemd.link(5)); each NIC is named after its MAC address here, so give it a name of its own, e.g. \"ifn0\", \"sn0\", \"bcn0\""))
    } else if interface.starts_with("br-") {
        Some(format!(
            "{interface:?}: names starting br- are the bridges this platform makes"
        ))
    } else {
        None
    }
}

/// The family's tables as read.
pub struct Raw<'a> {
    pub corosync: Option<&'a S<RawCorosync>>,
    pub pacemaker: Option<&'a S<RawPacemaker>>,
}

/// Checks the family's tables and makes its payload; `None` when a common
/// section it needs did not validate (already reported) or a problem was
/// found here.
pub fn validate(raw: &Raw<'_>, c: &Common<'_>, d: &mut Diagnostics) -> Option<Pcmk> {
    let corosync = corosync(raw.corosync, c.networks, d);
    let timeouts = timeouts(raw.pacemaker, d);
    let drbd = c.drbd?;
    let disks = c.disks?;
    let corosync = corosync?;
    let (stonith, levels, survivor) = stonith(c.nodes, c.fence_devices, &timeouts);
    Some(Pcmk {
        corosync,
        timeouts,
        stonith,
        levels,
        survivor,
        bridges: bridges(c.networks),
        lvm_filter: lvm_filter(disks),
        cib: cib(&drbd.resource, c.clvm),
    })
}

fn corosync(
    raw: Option<&S<RawCorosync>>,
    networks: &[Network],
    d: &mut Diagnostics,
) -> Option<Corosync> {
    let r = raw.map(S::get_ref);
    let token_ms = r.and_then(|r| r.token.as_ref()).map_or(3000, |t| {
        int_in::<u32>(d, t, "corosync.token", 100, 300_000)
    });
    let Some(links) = r.and_then(|r| r.links.as_ref()) else {
        return Some(Corosync {
            network: NetRole::BackChannel,
            token_ms,
        });
    };
    let mut roles = Vec::new();
    for (j, l) in links.get_ref().iter().enumerate() {
        let key = format!("corosync.links[{j}]");
        match NetRole::from_key(l.get_ref()) {
            None => d.error(
                sp(l),
                &key,
                format!(
                    "unknown network {:?}; corosync's link runs on one of internet, drbd, back_channel (back_channel is the usual one)",
                    l.get_ref()
                ),
            ),
            Some(role) if roles.contains(&role) => {
                d.error(sp(l), &key, format!("{} is listed twice", role.key()))
            }
            Some(role) => {
                if j == 0 {
                    link_warnings(role, l, &key, d);
                } else {
                    d.warn(sp(l), &key, format!("only the first link ({}) is used: dlm (GFS2, lvmlockd) supports one corosync link (Red Hat: clusters with dlm \"must be configured with only a single ring\"), and with two, losing the first keeps the membership while dlm stalls, with no fencing; remove {}", roles.first().map_or("", |r: &NetRole| r.key()), role.key()));
                }
                roles.push(role);
            }
        }
    }
    let Some(&network) = roles.first() else {
        if links.get_ref().is_empty() {
            d.error(
                sp(links),
                "corosync.links",
                "corosync needs one link: list the network it runs on, e.g. links = [\"back_channel\"]",
            );
        }
        return None;
    };
    networks
        .iter()
        .any(|n| n.role == network)
        .then_some(Corosync { network, token_ms })
}

fn link_warnings(role: NetRole, at: &S<String>, key: &str, d: &mut Diagnostics) {
    match role {
        NetRole::Internet => d.warn(
            sp(at),
            key,
            "corosync on the Internet-facing network: anything on that network can disturb the membership (and a busy uplink delays the token until a node is fenced); use back_channel",
        ),
        NetRole::Drbd => d.warn(
            sp(at),
            key,
            "corosync on DRBD's network: a resync can fill the link and delay the token until a node is fenced; use back_channel",
        ),
        NetRole::BackChannel => {}
    }
}

fn timeouts(raw: Option<&S<RawPacemaker>>, d: &mut Diagnostics) -> Timeouts {
    let r = raw.map(S::get_ref);
    let mut secs = |v: Option<&S<i64>>, key: &str, default: u64, min: i64, max: i64| {
        v.map_or(default, |v| {
            let n = int_in::<u64>(d, v, key, min, max);
            if key != "pacemaker.start_timeout" && n < 60 && n >= min as u64 {
                d.warn(sp(v), key, format!("{n} s is short: a stop or monitor that times out makes pacemaker fence the node (on-fail=fence), and a loaded node (a resync, a daemon-reload) takes longer than that; 300 s for operations and 180 s for monitors held in the test VMs"));
            }
            n
        })
    };
    Timeouts {
        op_secs: secs(
            r.and_then(|r| r.op_timeout.as_ref()),
            "pacemaker.op_timeout",
            300,
            20,
            3600,
        ),
        monitor_secs: secs(
            r.and_then(|r| r.monitor_timeout.as_ref()),
            "pacemaker.monitor_timeout",
            180,
            20,
            3600,
        ),
        stonith_secs: secs(
            r.and_then(|r| r.stonith_timeout.as_ref()),
            "pacemaker.stonith_timeout",
            300,
            30,
            3600,
        ),
        start_secs: secs(
            r.and_then(|r| r.start_timeout.as_ref()),
            "pacemaker.start_timeout",
            1800,
            60,
            86400,
        ),
    }
}

/// The agent's own names for the attributes the profile gives under
/// cman's names.
fn agent_name(attr: &str) -> &str {
    match attr {
        "ipaddr" => "ip",
        "login" => "username",
        other => other,
    }
}

/// The stonith resources, the fencing topology, and the node that
/// survives a split.
fn stonith(
    nodes: &[Node],
    devices: &[FenceDevice],
    t: &Timeouts,
) -> (Vec<Stonith>, Vec<Level>, Option<String>) {
    // device → (node FQDN, port, delay, action), in node order.
    type Use<'n> = (&'n str, Option<&'n str>, Option<u32>, Option<&'n str>);
    let mut uses: BTreeMap<&str, Vec<Use<'_>>> = BTreeMap::new();
    let mut levels = Vec::new();
    for n in nodes {
        for (i, m) in n.fence.iter().enumerate() {
            let ids: Vec<String> = m
                .devices
                .iter()
                .map(|r| format!("fence_{}", r.device))
                .collect();
            levels.push(Level {
                id: format!("fl-{}-{}", n.name, i + 1),
                target: n.fqdn.clone(),
                index: i + 1,
                devices: ids.join(","),
            });
            for r in &m.devices {
                let entry = uses.entry(r.device.as_str()).or_default();
                if !entry.iter().any(|u| u.0 == n.fqdn) {
                    entry.push((&n.fqdn, r.port.as_deref(), r.delay, r.action.as_deref()));
                }
            }
        }
    }
    let mut stonith = Vec::new();
    for dev in devices {
        let Some(u) = uses.get(dev.name.as_str()) else {
            continue;
        };
        let mut params: Vec<(String, String)> = dev
            .attrs
            .iter()
            .map(|(k, v)| (agent_name(k).to_string(), v.clone()))
            .collect();
        if dev.passwd_source.is_some() {
            params.push((
                "password_script".into(),
                format!("/bin/cat {FENCE_DIR}/{}.passwd", dev.name),
            ));
        }
        if u.iter().all(|x| x.1.is_none()) {
            let list: Vec<&str> = u.iter().map(|x| x.0).collect();
            params.push(("pcmk_host_list".into(), list.join(" ")));
        } else {
            let map: Vec<String> = u
                .iter()
                .map(|x| format!("{}:{}", x.0, x.1.unwrap_or_default()))
                .collect();
            params.push(("pcmk_host_map".into(), map.join(";")));
        }
        let delayed: Vec<(&str, u32)> = u
            .iter()
            .filter_map(|x| x.2.filter(|d| *d > 0).map(|d| (x.0, d)))
            .collect();
        let delay = match (u.len(), delayed.as_slice()) {
            (_, []) => None,
            (1, [(_, secs)]) => Some(format!("{secs}s")),
            _ => Some(
                delayed
                    .iter()
                    .map(|(n, s)| format!("{n}:{s}s"))
                    .collect::<Vec<_>>()
                    .join(";"),
            ),
        };
        if let Some(v) = &delay {
            params.push(("pcmk_delay_base".into(), v.clone()));
        }
        if let Some(action) = u.iter().find_map(|x| x.3) {
            if action != "reboot" {
                params.push(("pcmk_reboot_action".into(), action.to_string()));
            }
        }
        params.push((
            "pcmk_monitor_timeout".into(),
            format!("{}s", t.monitor_secs),
        ));
        stonith.push(Stonith {
            id: format!("fence_{}", dev.name),
            device: dev.name.clone(),
            agent: dev.agent.clone(),
            params,
            targets: u.iter().map(|x| x.0.to_string()).collect(),
            delay: delay.map(|_| {
                delayed
                    .iter()
                    .map(|(n, s)| format!("waits {s} s before fencing {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
        });
    }
    let waits = |n: &Node| {
        let dev_delay = |name: &str| {
            devices
                .iter()
                .any(|f| f.name == name && f.attrs.iter().any(|(k, v)| k == "delay" && v != "0"))
        };
        n.fence.iter().any(|m| {
            m.devices
                .iter()
                .any(|r| r.delay.is_some_and(|x| x > 0) || dev_delay(&r.device))
        })
    };
    let delayed: Vec<&Node> = nodes.iter().filter(|n| waits(n)).collect();
    let survivor = match delayed.as_slice() {
        [one] => Some(one.name.clone()),
        _ => None,
    };
    (stonith, levels, survivor)
}

fn bridges(networks: &[Network]) -> Vec<Bridge> {
    networks
        .iter()
        .map(|n| Bridge {
            role: n.role,
            interface: n.interface.clone(),
            name: format!("br-{}", n.interface),
        })
        .collect()
}

/// LVM sees DRBD's devices and the PV of the node's own VG, nothing else:
/// above all not DRBD's backing LV, which carries the same PV signature as
/// /dev/drbdN. Anchored: a pattern matches the whole name. The node's PV is
/// an md array (two disks; the installer names it /dev/mdN or /dev/md/NAME)
/// or a partition of its one disk.
pub fn lvm_filter(disks: &Disks) -> String {
    let mut accept = vec!["^/dev/drbd[0-9]+$".to_string()];
    if disks.mirrored() {
        accept.push("^/dev/md[0-9]+$".into());
        accept.push("^/dev/md/[^/]+$".into());
    } else {
        let disk = &disks.devices[0];
        // nvme0n1 → nvme0n1p3; sda → sda3.
        let sep = if disk.ends_with(|c: char| c.is_ascii_digit()) {
            "p"
        } else {
            ""
        };
        accept.push(format!("^/dev/{disk}{sep}[0-9]+$"));
    }
    let list: Vec<String> = accept
        .iter()
        .map(|a| format!("\"a|{a}|\""))
        .chain(["\"r|.*|\"".to_string()])
        .collect();
    format!("[ {} ]", list.join(", "))
}

fn cib(resource: &str, clvm: &Clvm) -> Cib {
    let storage = (!clvm.volumes.is_empty()).then(|| Storage {
        group: format!("storage_{}", clvm.vg),
        clone: format!("storage_{}-clone", clvm.vg),
        volumes: clvm
            .volumes
            .iter()
            .map(|v| StorageVolume {
                name: v.name.clone(),
                lv: format!("lv_{}", v.name),
                fs: v.gfs2.as_ref().map(|_| format!("fs_{}", v.name)),
                mountpoint: v.gfs2.as_ref().map(|g| g.mountpoint.clone()),
            })
            .collect(),
    });
    Cib {
        drbd: format!("drbd_{resource}"),
        drbd_clone: format!("drbd_{resource}-clone"),
        locking: "locking".into(),
        locking_clone: "locking-clone".into(),
        storage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Mib;

    #[test]
    fn nic_names_are_the_profiles_but_not_the_kernels() {
        for ok in ["ifn0", "sn0", "bcn0", "lan-1", "enp1s0", "storage_a"] {
            assert_eq!(interface_problem(ok), None, "{ok}");
        }
        for bad in [
            "eth0",
            "eth12",
            "wlan0",
            "",
            "0lan",
            "Lan0",
            "a.b",
            "br-ifn0",
            "averylongname",
        ] {
            assert!(interface_problem(bad).is_some(), "{bad}");
        }
        assert!(interface_problem("eth0")
            .unwrap()
            .contains("systemd.link(5)"));
    }

    fn disks(devices: &[&str]) -> Disks {
        Disks {
            devices: devices.iter().map(|d| d.to_string()).collect(),
            size: None,
            boot: Mib(200),
            swap: Mib(2048),
            root: Mib(20480),
            drbd: Mib(409600),
        }
    }

    #[test]
    fn the_filter_accepts_drbd_and_the_nodes_own_pv_only() {
        assert_eq!(
            lvm_filter(&disks(&["sda", "sdb"])),
            r#"[ "a|^/dev/drbd[0-9]+$|", "a|^/dev/md[0-9]+$|", "a|^/dev/md/[^/]+$|", "r|.*|" ]"#
        );
        assert_eq!(
            lvm_filter(&disks(&["sda"])),
            r#"[ "a|^/dev/drbd[0-9]+$|", "a|^/dev/sda[0-9]+$|", "r|.*|" ]"#
        );
        assert!(lvm_filter(&disks(&["nvme0n1"])).contains(r#""a|^/dev/nvme0n1p[0-9]+$|""#));
    }
}
