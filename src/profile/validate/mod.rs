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
use crate::diag::Diagnostics;
use crate::model::Cluster;
use crate::platform::{Common, Flavor, UsedPort};
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
    let head = cluster::cluster(&raw.cluster, spec.is_some(), d);
    let install = install::install(&raw.install, d);
    let disks = disks::disks(&raw.disks, d);
    let interface_problem: fn(&str) -> Option<String> =
        spec.map_or(no_rule, |s| s.interface_problem);
    let networks = networks::networks(&raw.networks, interface_problem, d);
    let device_names = fence::device_names(&raw.fence_devices);
    let node_context = nodes::Context {
        networks: &networks,
        device_names: &device_names,
        domain: &head.domain,
        vg_prefix: &disks.vg_prefix,
    };
    let nodes = nodes::nodes(&raw.nodes, &node_context, d);
    let (fence_devices, passwd_sources) = fence::fence_devices(&raw.fence_devices, d);
    fence::warn_without_delay(&raw.fence_devices, &nodes, &fence_devices, d);
    let fb = firstboot::firstboot(raw.firstboot.as_ref(), head.post_join_delay, d);
    let drbd = drbd::drbd(&raw.drbd, &nodes, d);
    let clvm = clvm::clvm(&raw.clvm, &head.name, &nodes, disks.drbd, d);
    let pxe = pxe::pxe(raw.pxe.as_ref(), d);
    let (fence_at, entries_at) = fence::places(&raw.fence_devices, &raw.nodes);
    let common = Common {
        networks: &networks,
        install_url: &raw.install.get_ref().url,
        url: &install.url,
        extras_url: raw.install.get_ref().extras_url.as_ref(),
        fence_devices: &fence_at,
        fence_entries: &entries_at,
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
        post_join_delay: head.post_join_delay,
        config_version: head.config_version,
        install,
        disks: disks.into_model()?,
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

/// No platform, no rule (the unknown platform is reported by `[cluster]`).
fn no_rule(_: &str) -> Option<String> {
    None
}
