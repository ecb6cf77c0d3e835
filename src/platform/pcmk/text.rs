//! The pacemaker platforms' lines in SUMMARY.md and network-map.svg.

use super::model::Pcmk;
use crate::model::{Cluster, NetRole};
use crate::platform::{MapNotes, SummaryText};
use std::collections::BTreeMap;

/// What differs per platform in SUMMARY.md.
pub struct PlatformWords<'a> {
    /// The disks as the installer lays them out.
    pub disk_layout: String,
    /// Where DRBD comes from, e.g. "DRBD 9 (ELRepo's kmod-drbd9x and drbd9x-utils)".
    pub drbd: &'a str,
    /// e.g. "kickstart", "preseed".
    pub installer_file: &'a str,
    pub installer_files: &'a str,
}

pub fn summary(p: &Pcmk, c: &Cluster, w: PlatformWords<'_>) -> SummaryText {
    let link = c.network(p.corosync.network);
    let devices: Vec<String> = p
        .stonith
        .iter()
        .map(|s| {
            format!(
                "`{}` ({}) fences {}{}",
                s.id,
                s.agent,
                s.targets.join(" and "),
                s.delay.as_ref().map_or(String::new(), |d| format!(", {d}"))
            )
        })
        .collect();
    let split = match &p.survivor {
        Some(n) => format!("**when the nodes lose each other, {n} survives** (the fence of {n} waits; the other node's fires at once)"),
        None => "**no node is favoured when the nodes lose each other** (no delay, or one on both: they may fence each other)".to_string(),
    };
    let mut resources = vec![
        format!("`{}` (promotable, Promoted on both)", p.cib.drbd_clone),
        format!("`{}` (dlm + lvmlockd)", p.cib.locking_clone),
    ];
    if let Some(s) = &p.cib.storage {
        resources.push(format!(
            "`{}` (the shared VG's LVs, active on both, and their GFS2)",
            s.clone
        ));
    }
    let t = &p.timeouts;
    SummaryText {
        disk_layout: w.disk_layout,
        stack: vec![
            format!(
                "corosync 3, knet with one link on the {} network {} (dlm, under GFS2 and lvmlockd, supports one), encrypted with the cluster's authkey, token {} ms; quorum `two_node` (a node alone keeps quorum once both have been seen together)",
                link.role.title(),
                link.subnet,
                p.corosync.token_ms
            ),
            format!("pacemaker: stonith {}; {split}; `no-quorum-policy=freeze`", devices.join("; ")),
            format!(
                "resources (Red Hat's GFS2 layout): {}; operation timeouts {} s, monitors {} s, fencing {} s",
                resources.join(", "),
                t.op_secs,
                t.monitor_secs,
                t.stonith_secs
            ),
            w.drbd.to_string(),
        ],
        first_boot: "starts corosync and pacemaker on both together, loads the CIB once, makes DRBD's metadata and runs the initial sync, then the shared VG (lvmlockd) and GFS2, and hands each to pacemaker; corosync and pacemaker start at boot from then on".into(),
        passwords_in: format!("{}/*.passwd, which the stonith devices read with password_script; the CIB holds none", super::FENCE_DIR),
        installer_files: w.installer_files.to_string(),
        installer_file: w.installer_file.to_string(),
        sync_source: "initial sync source (brand-new pair only)".into(),
    }
}

pub fn map_notes(p: &Pcmk) -> MapNotes {
    let mut links: BTreeMap<NetRole, Vec<String>> = BTreeMap::new();
    links
        .entry(p.corosync.network)
        .or_default()
        .push("corosync knet link 0 (pacemaker, dlm)".into());
    MapNotes {
        node: None,
        nic: p
            .bridges
            .iter()
            .map(|b| (b.role, format!("KVM: port of bridge {}", b.name)))
            .collect(),
        links,
        traffic: BTreeMap::from([(
            NetRole::Internet,
            if p.corosync.network == NetRole::Internet {
                "KVM guest traffic".to_string()
            } else {
                "KVM guest traffic; no cluster traffic".to_string()
            },
        )]),
    }
}
