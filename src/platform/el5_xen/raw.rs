//! el5-xen's own profile tables, as written: `[dom0]` and `[totem]`.

use super::super::Tables;
use crate::check::{from_table, S};
use serde::Deserialize;

/// The tables, split off the profile by the loader.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEl5 {
    pub dom0: S<RawDom0>,
    pub totem: S<RawTotem>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDom0 {
    pub memory: S<String>,
    pub runlevel: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTotem {
    #[serde(default)]
    pub version: Option<S<i64>>,
    pub secauth: S<bool>,
    pub threads: S<i64>,
    pub rrp_mode: S<String>,
    pub rings: S<Vec<S<RawRing>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRing {
    pub network: S<String>,
    pub mcastaddr: S<String>,
    pub mcastport: S<i64>,
}

pub fn parse(tables: toml_edit::Table) -> Result<Box<dyn Tables>, toml_edit::de::Error> {
    Ok(Box::new(from_table::<RawEl5>(tables)?))
}
