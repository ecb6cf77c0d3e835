//! el9-kvm's checks: its tables, the family's, and its rule for fence
//! agents.

use super::model::{El9Kvm, Repos};
use super::raw::RawEl9Kvm;
use crate::check::{sp, url_value, S};
use crate::diag::Diagnostics;
use crate::platform::pcmk::{agents, validate as family};
use crate::platform::{Common, Flavor, Tables};

/// ELRepo's el9 tree and its current (v2) signing key.
pub const ELREPO_URL: &str = "http://elrepo.org/linux/elrepo/el9/x86_64/";
pub const ELREPO_KEY_URL: &str = "https://www.elrepo.org/RPM-GPG-KEY-v2-elrepo.org";

impl Tables for RawEl9Kvm {
    fn validate(&self, common: &Common<'_>, d: &mut Diagnostics) -> Option<Flavor> {
        let raw = family::Raw {
            corosync: self.corosync.as_ref(),
            pacemaker: self.pacemaker.as_ref(),
        };
        let fam = family::validate(&raw, common, d);
        let repos = repos(self, common, d);
        let mut fence_packages: Vec<&'static str> = common
            .fence_devices
            .iter()
            .filter_map(|f| package(&f.agent))
            .collect();
        fence_packages.sort_unstable();
        fence_packages.dedup();
        if d.has_errors() {
            return None;
        }
        Some(Flavor::El9Kvm(El9Kvm {
            family: fam?,
            repos,
            fence_packages,
        }))
    }
}

/// The package that ships `agent` on RHEL 9.
pub fn package(agent: &str) -> Option<&'static str> {
    agents::EL9
        .iter()
        .find(|(a, _)| *a == agent)
        .map(|(_, p)| *p)
}

pub fn agent_problem(agent: &str) -> Option<String> {
    package(agent).is_none().then(|| {
        agents::not_shipped(
            agent,
            super::ID,
            "RHEL 9's fence-agents-* packages (High Availability)",
            "fence_ipmilan (IPMI, iDRAC, iLO 3-5), fence_redfish, fence_apc_snmp",
        )
    })
}

fn repos(raw: &RawEl9Kvm, c: &Common<'_>, d: &mut Diagnostics) -> Repos {
    let r = raw.el9.as_ref().map(S::get_ref);
    let mut missing = Vec::new();
    let mut tree = |v: Option<&S<String>>, key: &str, variant: &str| match v {
        Some(v) => url_value(d, v, key),
        None if c.url.contains("/BaseOS/") => {
            c.url.replacen("/BaseOS/", &format!("/{variant}/"), 1)
        }
        None => {
            missing.push(key.to_string());
            String::new()
        }
    };
    let appstream = tree(
        r.and_then(|r| r.appstream_url.as_ref()),
        "el9.appstream_url",
        "AppStream",
    );
    let high_availability = tree(
        r.and_then(|r| r.high_availability_url.as_ref()),
        "el9.high_availability_url",
        "HighAvailability",
    );
    let resilient_storage = tree(
        r.and_then(|r| r.resilient_storage_url.as_ref()),
        "el9.resilient_storage_url",
        "ResilientStorage",
    );
    if !missing.is_empty() {
        d.error(
            sp(c.install_url),
            "install.url",
            format!("{:?} is not a BaseOS tree (no /BaseOS/ in it), so the other repositories cannot be found beside it: give {} in [el9]", c.url, missing.join(", ")),
        );
    }
    let mut url = |v: Option<&S<String>>, key: &str, default: &str| {
        v.map_or_else(|| default.to_string(), |v| url_value(d, v, key))
    };
    Repos {
        appstream,
        high_availability,
        resilient_storage,
        elrepo: url(
            r.and_then(|r| r.elrepo_url.as_ref()),
            "el9.elrepo_url",
            ELREPO_URL,
        ),
        elrepo_key: url(
            r.and_then(|r| r.elrepo_key_url.as_ref()),
            "el9.elrepo_key_url",
            ELREPO_KEY_URL,
        ),
    }
}
