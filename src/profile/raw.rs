//! The profile as written: serde structs that mirror the TOML, every value
//! kept with its span so that validation can point at the key. Unknown keys
//! are refused here (`deny_unknown_fields`); meaning is checked in
//! `validate/`. These are the tables every platform has; a platform's own
//! tables (el5-xen: `[dom0]`, `[totem]`) are its raw types, in its folder.

use serde::Deserialize;
use std::collections::BTreeMap;

pub use crate::check::S;

/// The top-level tables of [`RawProfile`], in the order a profile lists them.
pub const COMMON_TABLES: &[&str] = &[
    "cluster",
    "install",
    "disks",
    "networks",
    "nodes",
    "fence_devices",
    "drbd",
    "clvm",
    "firstboot",
    "pxe",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    pub cluster: S<RawCluster>,
    pub install: S<RawInstall>,
    pub disks: S<RawDisks>,
    pub networks: RawNetworks,
    pub nodes: S<Vec<S<RawNode>>>,
    pub fence_devices: S<Vec<S<RawFenceDevice>>>,
    pub drbd: S<RawDrbd>,
    pub clvm: S<RawClvm>,
    #[serde(default)]
    pub firstboot: Option<S<RawFirstboot>>,
    #[serde(default)]
    pub pxe: Option<S<RawPxe>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    pub name: S<String>,
    pub domain: S<String>,
    pub platform: S<String>,
    /// cman's (el5-xen); other platforms refuse it.
    #[serde(default)]
    pub post_join_delay: Option<S<i64>>,
    #[serde(default)]
    pub config_version: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstall {
    pub url: S<String>,
    pub overlay_url: S<String>,
    /// el5-xen: CentOS extras (drbd83, kmod-drbd83-xen); default: url with
    /// /os/ replaced by /extras/. Read by that platform's validation.
    #[serde(default)]
    pub extras_url: Option<S<String>>,
    pub timezone: S<String>,
    #[serde(default)]
    pub timezone_utc: Option<S<bool>>,
    pub lang: S<String>,
    pub keyboard: S<String>,
    pub root_password_hash: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDisks {
    pub devices: S<Vec<S<String>>>,
    #[serde(default)]
    pub size: Option<S<String>>,
    pub boot_size: S<String>,
    pub swap_size: S<String>,
    pub root_size: S<String>,
    pub drbd_size: S<String>,
    /// Local VG name prefix; the node id (two digits) is appended: an-lvm01.
    #[serde(default)]
    pub vg_prefix: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetworks {
    pub internet: S<RawNetwork>,
    pub drbd: S<RawNetwork>,
    pub back_channel: S<RawNetwork>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    pub interface: S<String>,
    pub subnet: S<String>,
    #[serde(default)]
    pub gateway: Option<S<String>>,
    #[serde(default)]
    pub dns: Option<S<Vec<S<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub name: S<String>,
    pub id: S<i64>,
    pub mac: S<BTreeMap<String, S<String>>>,
    pub ip: S<BTreeMap<String, S<String>>>,
    #[serde(default)]
    pub fence: Option<S<Vec<S<RawFenceRef>>>>,
    /// `"replacement"`: new hardware for a dead node whose peer holds the
    /// data (`clusterkick node replace`); absent or `"initial"`: both nodes
    /// are new.
    #[serde(default)]
    pub role: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFenceRef {
    pub method: S<String>,
    pub device: S<String>,
    #[serde(default)]
    pub port: Option<S<String>>,
    #[serde(default)]
    pub action: Option<S<String>>,
    /// Seconds fenced waits before fencing this node through this device.
    #[serde(default)]
    pub delay: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFenceDevice {
    pub name: S<String>,
    pub agent: S<String>,
    #[serde(default)]
    pub ipaddr: Option<S<String>>,
    #[serde(default)]
    pub login: Option<S<String>>,
    #[serde(default)]
    pub passwd_file: Option<S<String>>,
    #[serde(default)]
    pub passwd_env: Option<S<String>>,
    /// Refused with a clear message: passwords never live in the profile.
    #[serde(default)]
    pub passwd: Option<S<toml::Value>>,
    #[serde(default)]
    pub options: Option<S<BTreeMap<String, S<toml::Value>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDrbd {
    /// The DRBD version the platform runs ("8.3", "8.4", "9"); each
    /// platform has one, its default.
    #[serde(default)]
    pub version: Option<S<String>>,
    pub resource: S<String>,
    pub device: S<String>,
    pub port: S<i64>,
    pub protocol: S<String>,
    pub sync_rate: S<String>,
    pub network: S<String>,
    pub primary: S<String>,
    #[serde(default)]
    pub allow_two_primaries: Option<S<bool>>,
    #[serde(default)]
    pub become_primary_on_both: Option<S<bool>>,
    /// DRBD's own fencing and split-brain policies (default on). Off gives a
    /// drbd.conf exactly like the seed's.
    #[serde(default)]
    pub fencing: Option<S<bool>>,
    #[serde(default)]
    pub usage_count: Option<S<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClvm {
    pub vg: S<String>,
    pub volumes: S<Vec<S<RawVolume>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVolume {
    pub name: S<String>,
    pub size: S<String>,
    #[serde(default)]
    pub gfs2: Option<S<RawGfs2>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGfs2 {
    pub mountpoint: S<String>,
    pub journals: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFirstboot {
    #[serde(default)]
    pub port: Option<S<i64>>,
    #[serde(default)]
    pub key_file: Option<S<String>>,
    #[serde(default)]
    pub skip_initial_sync: Option<S<bool>>,
    #[serde(default)]
    pub peer_timeout: Option<S<i64>>,
    #[serde(default)]
    pub cman_timeout: Option<S<i64>>,
    #[serde(default)]
    pub drbd_connect_timeout: Option<S<i64>>,
    #[serde(default)]
    pub drbd_primary_timeout: Option<S<i64>>,
    #[serde(default)]
    pub barrier_timeout: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPxe {
    /// Network whose NIC boots from the network (default back_channel).
    #[serde(default)]
    pub boot_network: Option<S<String>>,
    /// Install kernel and initrd, relative to the install tree.
    #[serde(default)]
    pub kernel: Option<S<String>>,
    #[serde(default)]
    pub initrd: Option<S<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// COMMON_TABLES names exactly RawProfile's fields: serde lists them
    /// when it refuses an unknown one.
    #[test]
    fn common_tables_are_the_raw_profile_fields() {
        let err = toml::from_str::<RawProfile>("x = 1").unwrap_err();
        let listed: Vec<&str> = err
            .message()
            .split("expected one of ")
            .nth(1)
            .expect("serde lists the fields")
            .split(", ")
            .map(|f| f.trim().trim_matches('`'))
            .collect();
        assert_eq!(listed, COMMON_TABLES);
    }
}
