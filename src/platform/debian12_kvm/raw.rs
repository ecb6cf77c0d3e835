//! debian12-kvm's own tables, as written: the family's `[corosync]` and
//! `[pacemaker]`, and `[debian]`.

use super::super::pcmk::raw::{RawCorosync, RawPacemaker};
use super::super::Tables;
use crate::check::{from_table, S};
use serde::Deserialize;

/// The tables, split off the profile by the loader.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDebian12Kvm {
    #[serde(default)]
    pub corosync: Option<S<RawCorosync>>,
    #[serde(default)]
    pub pacemaker: Option<S<RawPacemaker>>,
    #[serde(default)]
    pub debian: Option<S<RawDebian>>,
}

/// `[debian]`: the installed system's security updates (`install.url` is
/// the Debian mirror the installer and apt use).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDebian {
    /// Where bookworm-security is, e.g. "http://security.debian.org/debian-security".
    #[serde(default)]
    pub security_url: Option<S<String>>,
}

pub fn parse(tables: toml_edit::Table) -> Result<Box<dyn Tables>, toml_edit::de::Error> {
    Ok(Box::new(from_table::<RawDebian12Kvm>(tables)?))
}
