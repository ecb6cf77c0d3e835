//! `[cluster]`: the cluster's name, domain and cman settings, and which
//! platform it is built for.

use crate::check::{hostname_label_problem, int_in, is_name, sp, S};
use crate::diag::Diagnostics;
use crate::platform;
use crate::profile::raw::RawCluster;

/// What later sections need from `[cluster]`.
pub struct Head {
    pub name: String,
    pub domain: String,
    /// cman's; a platform without cman refuses the key (`platform::KeyRule`).
    pub post_join_delay: Option<u32>,
    /// The least config_version the profile asks for, if any.
    pub config_version: Option<u32>,
}

/// `platform_known`: whether the loader found the platform `cluster.platform`
/// names (it has read that platform's tables).
pub fn cluster(raw: &S<RawCluster>, platform_known: bool, d: &mut Diagnostics) -> Head {
    let c = raw.get_ref();
    if !platform_known {
        let known: Vec<_> = platform::SPECS.iter().map(|s| s.id).collect();
        d.error(
            sp(&c.platform),
            "cluster.platform",
            format!(
                "unknown platform {:?}; known: {}",
                c.platform.get_ref(),
                known.join(", ")
            ),
        );
    }
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
    let post_join_delay = c
        .post_join_delay
        .as_ref()
        .map(|p| int_in::<u32>(d, p, "cluster.post_join_delay", 0, 3600));
    let config_version = c
        .config_version
        .as_ref()
        .map(|v| int_in(d, v, "cluster.config_version", 1, u32::MAX as i64));
    Head {
        name,
        domain,
        post_join_delay,
        config_version,
    }
}
