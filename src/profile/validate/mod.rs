//! Raw profile → typed model, collecting every problem with its place.
//!
//! [`validate`] calls one function per profile section, in order; what a
//! section needs from earlier ones is in its arguments. The platform's own
//! tables come last, with what they need from the common sections.

mod cluster;
mod clvm;
mod disks;
mod drbd;
mod fence;
mod firstboot;
mod install;
mod networks;
mod nodes;
mod pxe;

pub use fence::{PasswdSource, PasswdSources};

use super::parse::Parsed;
use super::raw::RawProfile;
use crate::check::{sp, S};
use crate::diag::{Diagnostics, Severity};
use crate::model::Cluster;
use crate::platform::{Common, Flavor, KeyRule, Spec, UsedPort};
use std::ops::Range;

/// Everything validation produces.
pub struct Validated {
    pub cluster: Cluster,
    pub flavor: Flavor,
    /// Fence device name → where its password comes from.
    pub passwd_sources: PasswdSources,
    pub key_file: Option<(String, Range<usize>)>,
}

/// The one validation `check`, `build`, `render` and `iso` all run.
pub fn validate(p: &Parsed, d: &mut Diagnostics) -> Option<Validated> {
    let raw = &p.raw;
    let spec = p.platform.as_ref().map(|(s, _)| *s);
    let rules = spec.unwrap_or(&UNKNOWN);
    let head = cluster::cluster(&raw.cluster, spec.is_some(), d);
    key_rules(raw, rules, d);
    let install = install::install(&raw.install, d);
    let disks = disks::disks(&raw.disks, d);
    let networks = networks::networks(&raw.networks, rules.interface_problem, d);
    let device_names = fence::device_names(&raw.fence_devices);
    let node_context = nodes::Context {
        networks: &networks,
        device_names: &device_names,
        domain: &head.domain,
        vg_prefix: &disks.vg_prefix,
        fence_actions: rules.fence_actions,
        device_per_resource: rules.device_per_resource,
    };
    let nodes = nodes::nodes(&raw.nodes, &node_context, d);
    let (fence_devices, passwd_sources) =
        fence::fence_devices(&raw.fence_devices, rules.agent_problem, d);
    fence::warn_without_delay(
        &raw.fence_devices,
        &raw.nodes,
        &nodes,
        &fence_devices,
        rules.delay_on_one_node,
        d,
    );
    let fb = firstboot::firstboot(raw.firstboot.as_ref(), head.post_join_delay, d);
    let versions = drbd::Versions {
        platform: rules.id,
        versions: rules.drbd_versions,
        source: rules.drbd_source,
    };
    let drbd = drbd::drbd(&raw.drbd, &nodes, &versions, d);
    let clvm = clvm::clvm(&raw.clvm, &head.name, &nodes, disks.drbd, d);
    let pxe = pxe::pxe(raw.pxe.as_ref(), rules.pxe_defaults, d);
    let disks = disks.into_model();
    let (fence_at, entries_at) = fence::places(&raw.fence_devices, &raw.nodes);
    let common = Common {
        cluster_name: &head.name,
        domain: &head.domain,
        networks: &networks,
        install_url: &raw.install.get_ref().url,
        url: &install.url,
        extras_url: raw.install.get_ref().extras_url.as_ref(),
        fence_devices_at: &fence_at,
        fence_entries_at: &entries_at,
        disks: disks.as_ref(),
        nodes: &nodes,
        fence_devices: &fence_devices,
        drbd: drbd.as_ref(),
        clvm: &clvm,
    };
    let flavor = p
        .platform
        .as_ref()
        .and_then(|(_, t)| t.validate(&common, d));
    let mut firstboot = fb.firstboot;
    firstboot.port = firstboot::helper_port(
        fb.port.as_ref(),
        drbd.as_ref().map(|x| x.port).filter(|p| *p > 0),
        &used_ports(p),
        d,
    );
    if d.has_errors() {
        return None;
    }
    let cluster = Cluster {
        name: head.name,
        domain: head.domain,
        post_join_delay: head.post_join_delay.unwrap_or(0),
        config_version: head.config_version.unwrap_or(1),
        config_version_floor: head.config_version,
        install,
        disks: disks?,
        networks,
        nodes,
        fence_devices,
        drbd: drbd?,
        clvm,
        firstboot,
        pxe,
    };
    Some(Validated {
        cluster,
        flavor: flavor?,
        passwd_sources,
        key_file: fb.key_file,
    })
}

/// Every port the profile has the nodes use, but the helper's.
fn used_ports(p: &Parsed) -> Vec<UsedPort> {
    let drbd = p.raw.drbd.get_ref();
    let mut used: Vec<UsedPort> = u16::try_from(*drbd.port.get_ref())
        .ok()
        .map(|port| UsedPort {
            port,
            key: "drbd.port".into(),
            what: "DRBD (TCP)".into(),
            span: drbd.port.span(),
        })
        .into_iter()
        .collect();
    if let Some((_, t)) = &p.platform {
        used.extend(t.ports());
    }
    used
}

/// The rules for a profile whose `cluster.platform` names no platform we
/// know (reported by `[cluster]`): the other sections are checked without
/// a platform's own rules.
const UNKNOWN: Spec = Spec {
    id: "this platform",
    tables: &[],
    interface_problem: |_| None,
    parse: |_| Err(serde::de::Error::custom("no platform")),
    agent_problem: |_| None,
    fence_actions: &["off", "reboot", "on", "disable", "enable"],
    device_per_resource: false,
    delay_on_one_node: false,
    drbd_versions: &[],
    drbd_source: "",
    keys: &[],
    pxe_defaults: ("", ""),
    table_hints: &[],
};

/// The keys of the common tables that a platform may require, refuse or
/// need true ([`Spec::keys`]): [`ruled_key`] knows each.
#[cfg(test)]
const RULED_KEYS: &[&str] = &[
    "cluster.post_join_delay",
    "install.extras_url",
    "drbd.allow_two_primaries",
    "drbd.become_primary_on_both",
    "drbd.fencing",
];

/// A ruled key's table's place and, when given, its own place and
/// (for a true/false key) value.
type RuledKey = (Range<usize>, Option<(Range<usize>, Option<bool>)>);

/// `key` of [`RULED_KEYS`] in `raw`: its table's place, and its own place
/// and (for a true/false key) value when given.
fn ruled_key(raw: &RawProfile, key: &str) -> RuledKey {
    let flag = |v: &S<bool>| (sp(v), Some(*v.get_ref()));
    let c = raw.cluster.get_ref();
    let i = raw.install.get_ref();
    let r = raw.drbd.get_ref();
    match key {
        "cluster.post_join_delay" => (
            sp(&raw.cluster),
            c.post_join_delay.as_ref().map(|v| (sp(v), None)),
        ),
        "install.extras_url" => (
            sp(&raw.install),
            i.extras_url.as_ref().map(|v| (sp(v), None)),
        ),
        "drbd.allow_two_primaries" => (sp(&raw.drbd), r.allow_two_primaries.as_ref().map(flag)),
        "drbd.become_primary_on_both" => {
            (sp(&raw.drbd), r.become_primary_on_both.as_ref().map(flag))
        }
        "drbd.fencing" => (sp(&raw.drbd), r.fencing.as_ref().map(flag)),
        _ => (0..0, None),
    }
}

/// The platform's rules for keys of the common tables.
fn key_rules(raw: &RawProfile, spec: &Spec, d: &mut Diagnostics) {
    for (key, rule) in spec.keys {
        let (table, given) = ruled_key(raw, key);
        match (rule, given) {
            (KeyRule::Required(why), None) => d.push(
                Severity::Error,
                Some(table),
                key,
                format!("missing on {}: {why}", spec.id),
            ),
            (KeyRule::Refused(why), Some((at, _))) => d.error(
                at,
                key,
                format!("{} has no such setting ({why}): remove it", spec.id),
            ),
            (KeyRule::NotFalse(why), Some((at, Some(false)))) => {
                d.error(at, key, format!("cannot be false on {}: {why}", spec.id))
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::SPECS;

    #[test]
    fn every_key_a_platform_rules_on_is_one_validation_knows() {
        for spec in SPECS {
            for (key, rule) in spec.keys {
                assert!(RULED_KEYS.contains(key), "{}: {key}", spec.id);
                if let KeyRule::NotFalse(_) = rule {
                    assert!(key.starts_with("drbd."), "{key} is not a true/false key");
                }
            }
        }
    }
}
