//! `[drbd]`: the replicated device under the clustered VG.

use crate::check::{int_in, is_name, sp, S};
use crate::diag::Diagnostics;
use crate::model::{Drbd, NetRole, Node, DRBD_BACKING_LV};
use crate::profile::raw::RawDrbd;

/// What the platform runs: the DRBD versions it has (the first is the
/// default) and where they come from.
pub struct Versions<'a> {
    pub platform: &'a str,
    pub versions: &'a [&'a str],
    pub source: &'a str,
}

pub fn drbd(
    raw: &S<RawDrbd>,
    nodes: &[Node],
    versions: &Versions<'_>,
    d: &mut Diagnostics,
) -> Option<Drbd> {
    let r = raw.get_ref();
    let version = match &r.version {
        None => versions
            .versions
            .first()
            .copied()
            .unwrap_or_default()
            .to_string(),
        Some(v) => {
            if !versions.versions.contains(&v.get_ref().as_str()) {
                let have: Vec<String> =
                    versions.versions.iter().map(|v| format!("{v:?}")).collect();
                d.error(
                    sp(v),
                    "drbd.version",
                    format!(
                        "{} has no DRBD {:?} ({}): write version = {} or leave the key out",
                        versions.platform,
                        v.get_ref(),
                        versions.source,
                        have.join(" or ")
                    ),
                );
            }
            v.get_ref().clone()
        }
    };
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
    Some(Drbd {
        version,
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
        backing_lv: DRBD_BACKING_LV.to_string(),
    })
}
