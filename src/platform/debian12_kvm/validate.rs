//! debian12-kvm's checks: its tables, the family's, the mirror and its rule
//! for fence agents.

use super::model::{Debian12Kvm, Mirror};
use super::raw::RawDebian12Kvm;
use crate::check::{sp, url_value, S};
use crate::diag::Diagnostics;
use crate::platform::pcmk::{agents, validate as family};
use crate::platform::{Common, Flavor, Tables};

pub const SECURITY_URL: &str = "http://security.debian.org/debian-security";

/// The agents that drive ipmitool (fence-agents' ipmilan family).
const IPMITOOL_AGENTS: &[&str] = &[
    "fence_idrac",
    "fence_ilo3",
    "fence_ilo4",
    "fence_ilo5",
    "fence_imm",
    "fence_ipmilan",
    "fence_ipmilanplus",
];

impl Tables for RawDebian12Kvm {
    fn validate(&self, common: &Common<'_>, d: &mut Diagnostics) -> Option<Flavor> {
        let raw = family::Raw {
            corosync: self.corosync.as_ref(),
            pacemaker: self.pacemaker.as_ref(),
        };
        let fam = family::validate(&raw, common, d);
        let install_mirror = mirror(common.url).map_err(|why| {
            d.error(
                sp(common.install_url),
                "install.url",
                format!("{:?} {why}", common.url),
            )
        });
        let security_url = self
            .debian
            .as_ref()
            .and_then(|r| r.get_ref().security_url.as_ref());
        let security = match security_url {
            Some(v) => {
                let url = url_value(d, v, "debian.security_url");
                mirror_of(&url, v, "debian.security_url", d)
            }
            None => mirror(SECURITY_URL).ok(),
        };
        let ipmitool = common
            .fence_devices
            .iter()
            .any(|f| IPMITOOL_AGENTS.contains(&f.agent.as_str()));
        if d.has_errors() {
            return None;
        }
        Some(Flavor::Debian12Kvm(Debian12Kvm {
            family: fam?,
            mirror: install_mirror.ok()?,
            security: security?,
            ipmitool,
        }))
    }
}

fn mirror_of(url: &str, at: &S<String>, key: &str, d: &mut Diagnostics) -> Option<Mirror> {
    mirror(url)
        .map_err(|why| d.error(sp(at), key, format!("{url:?} {why}")))
        .ok()
}

/// A mirror URL as debian-installer asks for it: protocol, host, path.
pub fn mirror(url: &str) -> Result<Mirror, &'static str> {
    let (protocol, rest) = url.split_once("://").ok_or("has no scheme")?;
    if protocol != "http" && protocol != "https" {
        return Err("is not an http:// or https:// URL: debian-installer 12 fetches a mirror over HTTP(S) only");
    }
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if host.is_empty() {
        return Err("has no host");
    }
    Ok(Mirror {
        protocol: protocol.to_string(),
        host: host.to_string(),
        directory: format!("/{}", path.trim_end_matches('/')),
    })
}

pub fn agent_problem(agent: &str) -> Option<String> {
    (!agents::DEBIAN12.contains(&agent)).then(|| {
        agents::not_shipped(
            agent,
            super::ID,
            "Debian 12's fence-agents package",
            "fence_ipmilan (IPMI, iDRAC, iLO 3-5), fence_redfish, fence_apc_snmp",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_split_as_the_installer_asks() {
        let m = mirror("http://10.0.1.1/debian/").unwrap();
        assert_eq!(
            (m.protocol.as_str(), m.host.as_str(), m.directory.as_str()),
            ("http", "10.0.1.1", "/debian")
        );
        let m = mirror("https://deb.example:8443/a/b").unwrap();
        assert_eq!(
            (m.host.as_str(), m.directory.as_str()),
            ("deb.example:8443", "/a/b")
        );
        assert_eq!(mirror("http://h").unwrap().directory, "/");
        assert!(mirror("ftp://h/debian")
            .unwrap_err()
            .contains("HTTP(S) only"));
    }
}
