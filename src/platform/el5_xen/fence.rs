//! Fence agents on an el5-xen node: which ones the node has, how
//! cluster.conf names them, and the Node Assassin agent's own config.
//!
//! - **Shipped**: the agents CentOS 5.4's cman package installs in /sbin
//!   ([`SHIPPED`], the list and its evidence are the helper's,
//!   `fence_na::agents`, docs/fence_na.md).
//! - **Provided**: `fence_na`, clusterkick's own Node Assassin agent (a
//!   mode of the static helper; the %post links /sbin/fence_na to it). The
//!   overlay writes its config, /etc/clusterkick/fence_na.toml (0600),
//!   serialized from the agent's own `Config`.
//! - **Wrapped**: none of the shipped agents honours `delay`, and the 2009
//!   Python agents exit 2 on any key they do not know (docs/evidence/el5.md
//!   §1). A shipped agent whose device has a `delay` on some node's entry
//!   is written as the helper's delay wrapper,
//!   `agent="fence_clusterkick" wrap_agent="<real agent>"`: the wrapper
//!   takes `delay` and `wrap_agent` off stdin, sleeps before off/reboot,
//!   then runs /sbin/<real agent> with the rest. A shipped agent without a
//!   delay is written as itself and never gets a `delay` attribute.
//!
//! Any other agent is refused by `check`: a node without its agent cannot
//! fence, and the survivor of a split then blocks for ever.

use crate::check::{sp, S};
use crate::diag::Diagnostics;
use crate::fence_na::config::{
    Config, DeviceConfig, Timeouts, DEFAULT_MAX_NODES, DEFAULT_TCP_PORT,
};
use crate::fence_na::secret::Secret;
use crate::model::{Cluster, Secrets};
use crate::platform::Common;
use serde::Serialize;
use std::collections::BTreeMap;

/// The agents cman ships on CentOS 5.4 (sorted).
pub const SHIPPED: &[&str] = crate::fence_na::EL5_CMAN_AGENTS;

/// The agent clusterkick installs itself: /sbin/fence_na.
pub const PROVIDED: &str = crate::fence_na::PROVIDED_AGENT;

/// The helper's delay wrapper for shipped agents: /sbin/fence_clusterkick.
pub const WRAPPER: &str = "fence_clusterkick";

/// The attribute that names the wrapped agent.
pub const WRAP_ATTR: &str = "wrap_agent";

/// Where the overlay puts fence_na's config (the agent's default path,
/// without the leading '/').
pub const FENCE_NA_CONFIG: &str = "etc/clusterkick/fence_na.toml";

/// The links the %post makes to the helper, as fenced finds agents (in
/// /sbin, through PATH).
pub const AGENT_LINKS: &[&str] = &["/sbin/fence_na", "/sbin/fence_clusterkick"];

/// How cluster.conf names one fence device's agent.
#[derive(Debug, Clone, Serialize)]
pub struct FenceAgent {
    /// The profile's agent.
    pub real: String,
    /// What `<fencedevice agent=...>` says: the real agent, or the wrapper.
    pub agent: String,
    /// The real agent, when `agent` is the wrapper.
    pub wrap_agent: Option<String>,
    /// Whether `delay` may be written on this device's entries (the agent
    /// that reads them knows it: fence_na, or the wrapper).
    pub takes_delay: bool,
    /// Which program sleeps the delay, for SUMMARY.md.
    pub delay_by: Option<String>,
}

/// Whether cman on CentOS 5.4 installs `agent`.
pub fn ships(agent: &str) -> bool {
    SHIPPED.binary_search(&agent).is_ok()
}

fn shipped_list() -> String {
    SHIPPED.join(", ")
}

/// Checks every fence device's agent and what that agent needs; returns how
/// cluster.conf names each (by device name).
pub fn validate(c: &Common<'_>, d: &mut Diagnostics) -> BTreeMap<String, FenceAgent> {
    let mut out = BTreeMap::new();
    for dev in c.fence_devices_at {
        let agent = dev.agent.get_ref().as_str();
        let akey = format!("{}.agent", dev.key);
        let entries: Vec<_> = c
            .fence_entries_at
            .iter()
            .filter(|e| e.device == dev.name)
            .collect();
        let delayed = entries.iter().any(|e| e.delay.is_some_and(|x| x > 0));
        let fa = if agent == PROVIDED {
            fence_na_needs(dev, &entries, d);
            FenceAgent {
                real: agent.into(),
                agent: agent.into(),
                wrap_agent: None,
                takes_delay: true,
                delay_by: Some(format!(
                    "{PROVIDED} (clusterkick's Node Assassin agent) sleeps it before off and reboot"
                )),
            }
        } else if agent == WRAPPER {
            d.error(
                sp(dev.agent),
                &akey,
                format!("{WRAPPER} is clusterkick's delay wrapper, which cluster.conf names by itself when a shipped agent's device has a delay; give the real agent here (one of {})", shipped_list()),
            );
            continue;
        } else if ships(agent) {
            FenceAgent {
                real: agent.into(),
                agent: if delayed { WRAPPER.into() } else { agent.into() },
                wrap_agent: delayed.then(|| agent.to_string()),
                takes_delay: delayed,
                delay_by: delayed.then(|| {
                    format!("{WRAPPER} (clusterkick's delay wrapper) sleeps it, then runs /sbin/{agent}, which never sees the delay")
                }),
            }
        } else {
            d.error(
                sp(dev.agent),
                &akey,
                format!(
                    "{agent:?} is not installed on a CentOS 5.4 node: cman ships {}, and clusterkick provides {PROVIDED} (Node Assassin); name one of those, or install the agent yourself and add it to the platform's list with the evidence that 5.4 has it (docs/fence_na.md)",
                    shipped_list()
                ),
            );
            continue;
        };
        out.insert(dev.name.to_string(), fa);
    }
    out
}

/// fence_na's config needs the device's address, login and password, and
/// each node's port as a number the device knows.
fn fence_na_needs(
    dev: &crate::platform::FenceDeviceAt<'_>,
    entries: &[&crate::platform::FenceEntryAt<'_>],
    d: &mut Diagnostics,
) {
    let nonempty = |v: Option<&S<String>>| v.is_some_and(|s| !s.get_ref().trim().is_empty());
    for (field, given, why) in [
        (
            "ipaddr",
            nonempty(dev.ipaddr),
            "the Node Assassin's address (fence_na connects to it on TCP port 238)",
        ),
        (
            "login",
            nonempty(dev.login),
            "the login fenced passes and fence_na checks",
        ),
    ] {
        if !given {
            d.error(
                dev.at.clone(),
                &format!("{}.{field}", dev.key),
                format!("{PROVIDED} needs {field}: {why}"),
            );
        }
    }
    if !dev.has_passwd {
        d.error(
            dev.at.clone(),
            &format!("{}.passwd_file", dev.key),
            format!("{PROVIDED} needs a password: give passwd_file (relative to the profile) or passwd_env"),
        );
    }
    for e in entries {
        match e.port {
            None => d.error(
                e.at.clone(),
                &format!("{}.port", e.key),
                format!("{} is fenced through {PROVIDED}: give the Node Assassin port it is wired to, e.g. port = \"01\"", e.node),
            ),
            Some(p) if na_port(p.get_ref()).is_none() => d.error(
                sp(p),
                &format!("{}.port", e.key),
                format!("{:?} is not a Node Assassin port: a number from 1 to 99, e.g. \"01\"", p.get_ref()),
            ),
            Some(_) => {}
        }
    }
}

/// A Node Assassin port as the profile writes it ("01", "2").
fn na_port(s: &str) -> Option<u8> {
    let s = s.trim();
    if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|p| (1..=99).contains(p))
}

/// Whether a cluster's nodes need fence_na's config.
pub fn uses_fence_na(c: &Cluster) -> bool {
    c.fence_devices.iter().any(|f| f.agent == PROVIDED)
}

/// /etc/clusterkick/fence_na.toml: every Node Assassin of the cluster, with
/// the same address, login and password cluster.conf gives fenced (the
/// agent compares them), its ports named after the nodes wired to them.
pub fn fence_na_config(c: &Cluster, secrets: &Secrets) -> Result<Config, String> {
    let mut devices = Vec::new();
    for f in c.fence_devices.iter().filter(|f| f.agent == PROVIDED) {
        let attr = |k: &str| f.attrs.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
        let passwd = secrets
            .fence_passwords
            .iter()
            .find(|(n, _)| n == &f.name)
            .map(|(_, p)| Secret::new(p.clone()))
            .ok_or_else(|| format!("fence device {} has no password", f.name))?;
        let mut aliases = BTreeMap::new();
        for n in &c.nodes {
            for r in n.fence.iter().flat_map(|m| &m.devices) {
                if r.device == f.name {
                    if let Some(p) = r.port.as_deref().and_then(na_port) {
                        aliases.insert(p.to_string(), n.fqdn.clone());
                    }
                }
            }
        }
        let highest = aliases
            .keys()
            .filter_map(|k| k.parse::<u8>().ok())
            .max()
            .unwrap_or(0);
        devices.push(DeviceConfig {
            name: Some(f.name.clone()),
            ipaddr: attr("ipaddr")
                .ok_or_else(|| format!("fence device {} has no ipaddr", f.name))?,
            tcp_port: DEFAULT_TCP_PORT,
            login: attr("login").ok_or_else(|| format!("fence device {} has no login", f.name))?,
            passwd,
            max_nodes: highest.max(DEFAULT_MAX_NODES),
            aliases,
        });
    }
    Ok(Config {
        devices,
        timeouts: Timeouts::default(),
    })
}

/// The config file's bytes: a comment header, then the serialized config.
pub fn fence_na_toml(c: &Cluster, secrets: &Secrets) -> Result<Vec<u8>, String> {
    let cfg = fence_na_config(c, secrets)?;
    let body = toml::to_string(&cfg).map_err(|e| e.to_string())?;
    Ok(format!(
        "# {}\n# The Node Assassin agent's config (/sbin/fence_na, a link to clusterkick-firstboot;\n# docs/fence_na.md). It holds the device password: root only, mode 0600.\n\n{body}",
        crate::render::context::header(c)
    )
    .into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_one_or_two_digits_from_1_to_99() {
        assert_eq!(na_port("01"), Some(1));
        assert_eq!(na_port("2"), Some(2));
        assert_eq!(na_port("99"), Some(99));
        for bad in ["0", "00", "100", "", "a1", "-1", "1.0", "001"] {
            assert_eq!(na_port(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_wrapper_and_fence_na_are_not_shipped_agents() {
        assert!(!ships(WRAPPER));
        assert!(!ships(PROVIDED));
        assert!(ships("fence_ipmilan"));
        assert!(AGENT_LINKS
            .iter()
            .any(|l| l.rsplit('/').next() == Some(PROVIDED)));
        assert!(AGENT_LINKS
            .iter()
            .any(|l| l.rsplit('/').next() == Some(WRAPPER)));
        assert_eq!(
            format!("/{FENCE_NA_CONFIG}"),
            crate::fence_na::config::DEFAULT_CONFIG_PATH
        );
    }
}
