//! el9-kvm's own tables, as written: the family's `[corosync]` and
//! `[pacemaker]`, and `[el9]` (its repositories).

use super::super::pcmk::raw::{RawCorosync, RawPacemaker};
use super::super::Tables;
use crate::check::{from_table, S};
use serde::Deserialize;

/// The tables, split off the profile by the loader.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEl9Kvm {
    #[serde(default)]
    pub corosync: Option<S<RawCorosync>>,
    #[serde(default)]
    pub pacemaker: Option<S<RawPacemaker>>,
    #[serde(default)]
    pub el9: Option<S<RawEl9>>,
}

/// `[el9]`: where the installer and the %post get packages. Each URL
/// defaults from `install.url` when that is a BaseOS tree (`/BaseOS/` in
/// the path, as Rocky, AlmaLinux and RHEL lay out their mirrors).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEl9 {
    #[serde(default)]
    pub appstream_url: Option<S<String>>,
    #[serde(default)]
    pub high_availability_url: Option<S<String>>,
    #[serde(default)]
    pub resilient_storage_url: Option<S<String>>,
    /// ELRepo's el9 tree (kmod-drbd9x, drbd9x-utils).
    #[serde(default)]
    pub elrepo_url: Option<S<String>>,
    /// Where the %post fetches ELRepo's signing key (its fingerprint is
    /// pinned: a key with another one is refused).
    #[serde(default)]
    pub elrepo_key_url: Option<S<String>>,
}

pub fn parse(tables: toml_edit::Table) -> Result<Box<dyn Tables>, toml_edit::de::Error> {
    Ok(Box::new(from_table::<RawEl9Kvm>(tables)?))
}
