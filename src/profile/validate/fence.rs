//! `[[fence_devices]]`: the devices fence methods name, their attributes,
//! and where their passwords come from (never the profile itself).

use crate::check::{has_control, is_name, sp, xml_text, S};
use crate::diag::{Diagnostics, Severity};
use crate::model::{FenceDevice, Node};
use crate::profile::raw::{RawFenceDevice, RawNode};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

/// Where a fence device's password comes from.
#[derive(Debug, Clone)]
pub enum PasswdSource {
    File(String),
    Env(String),
}

/// Fence device name → where its password comes from, with its place.
pub type PasswdSources = Vec<(String, PasswdSource, Range<usize>)>;

/// The devices' names, which the nodes' fence methods refer to.
pub fn device_names(raw: &S<Vec<S<RawFenceDevice>>>) -> BTreeSet<String> {
    raw.get_ref()
        .iter()
        .map(|f| f.get_ref().name.get_ref().clone())
        .collect()
}

/// `agent_problem`: the platform's rule for agents (one it does not ship).
pub fn fence_devices(
    raw: &S<Vec<S<RawFenceDevice>>>,
    agent_problem: fn(&str) -> Option<String>,
    d: &mut Diagnostics,
) -> (Vec<FenceDevice>, PasswdSources) {
    let mut devices = Vec::new();
    let mut sources = Vec::new();
    let mut seen_names = BTreeSet::new();
    for (j, fd) in raw.get_ref().iter().enumerate() {
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
        if !seen_names.insert(fname.clone()) {
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
        } else if let Some(why) = agent_problem(&agent) {
            d.error(sp(&fd.agent), &format!("{base}.agent"), why);
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
        let source = passwd_source(&base, fd, d);
        if let Some((s, span)) = &source {
            sources.push((fname.clone(), s.clone(), span.clone()));
        }
        if let Some(opts) = &fd.options {
            options(&base, opts.get_ref(), &mut attrs, d);
        }
        devices.push(FenceDevice {
            name: fname,
            agent,
            attrs,
            passwd_source: source.map(|(s, _)| match s {
                PasswdSource::File(f) => format!("file {f}"),
                PasswdSource::Env(e) => format!("environment variable {e}"),
            }),
        });
    }
    (devices, sources)
}

/// `passwd_file` or `passwd_env`; an inline `passwd` is refused.
fn passwd_source(
    base: &str,
    fd: &RawFenceDevice,
    d: &mut Diagnostics,
) -> Option<(PasswdSource, Range<usize>)> {
    if let Some(p) = &fd.passwd {
        d.error(sp(p), &format!("{base}.passwd"), "an inline password is not allowed in a profile; put it in a file and name it with passwd_file = \"...\" (relative to the profile), or name an environment variable with passwd_env = \"...\"");
    }
    match (&fd.passwd_file, &fd.passwd_env) {
        (Some(f), Some(_)) => {
            d.error(
                sp(f),
                &format!("{base}.passwd_file"),
                "give passwd_file or passwd_env, not both",
            );
            None
        }
        (Some(f), None) => {
            if f.get_ref().is_empty() || has_control(f.get_ref()) {
                d.error(sp(f), &format!("{base}.passwd_file"), "must be a file path");
                None
            } else {
                Some((PasswdSource::File(f.get_ref().clone()), sp(f)))
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
                None
            } else {
                Some((PasswdSource::Env(v.clone()), sp(e)))
            }
        }
        (None, None) => None,
    }
}

/// Extra agent attributes (`options = { ... }`), appended to `attrs` in
/// name order.
fn options(
    base: &str,
    opts: &BTreeMap<String, S<toml::Value>>,
    attrs: &mut Vec<(String, String)>,
    d: &mut Diagnostics,
) {
    let reserved = [
        "name",
        "agent",
        "ipaddr",
        "login",
        "passwd",
        "passwd_script",
    ];
    for (ok, ov) in opts {
        let okey = format!("{base}.options.{ok}");
        if !ok
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            || ok.is_empty()
        {
            d.error(
                sp(ov),
                &okey,
                format!("{ok:?} is not an attribute name: lower-case letters, digits and '_'"),
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

/// Two nodes that lose each other fence at the same moment unless one of
/// them waits: warn when no delay is set anywhere. With `one_node`, warn
/// too when both nodes wait (then neither is the one that survives).
pub fn warn_without_delay(
    raw: &S<Vec<S<RawFenceDevice>>>,
    raw_nodes: &S<Vec<S<RawNode>>>,
    nodes: &[Node],
    devices: &[FenceDevice],
    one_node: bool,
    d: &mut Diagnostics,
) {
    let device_delays = |name: &str| {
        devices
            .iter()
            .any(|f| f.name == name && f.attrs.iter().any(|(k, v)| k == "delay" && v != "0"))
    };
    let delayed = |n: &Node| {
        n.fence.iter().any(|m| {
            m.devices
                .iter()
                .any(|r| r.delay.is_some_and(|x| x > 0) || device_delays(&r.device))
        })
    };
    let any_delay = nodes.iter().any(delayed)
        || devices
            .iter()
            .any(|f| f.attrs.iter().any(|(k, v)| k == "delay" && v != "0"));
    if !any_delay && !nodes.is_empty() {
        d.warn(
            sp(raw),
            "fence_devices",
            "no fence device has a delay for either node: when the two nodes lose each other both fence at once and may kill each other; give one node's fence entry delay = 15",
        );
    }
    if one_node && nodes.len() == 2 && nodes.iter().all(delayed) {
        let last = raw_nodes.get_ref().last().map(|n| {
            let n = n.get_ref();
            n.fence.as_ref().map_or_else(|| sp(&n.name), sp)
        });
        d.push(
            Severity::Warning,
            last,
            "nodes[1].fence",
            format!(
                "both {} and {} are fenced with a delay: the delay decides which node survives when they lose each other, so give it to that node's fence entry only (the other's fence device then fires at once)",
                nodes[0].name, nodes[1].name
            ),
        );
    }
}
