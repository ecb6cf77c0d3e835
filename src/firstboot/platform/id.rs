//! Which platform a first-boot config names (`platform = "el5-xen"`).

use serde::{Deserialize, Serialize};

/// The `platform` of a first-boot config: which plan the helper runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlatformId {
    /// CentOS 5 with Xen, cman + openais, DRBD 8.3, clvmd, GFS2 (the seed).
    #[serde(rename = "el5-xen")]
    El5Xen,
}

impl PlatformId {
    pub const ALL: &'static [PlatformId] = &[PlatformId::El5Xen];

    /// The name in `firstboot.toml` and in the profile.
    pub fn name(self) -> &'static str {
        match self {
            PlatformId::El5Xen => "el5-xen",
        }
    }
}

impl std::fmt::Display for PlatformId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for PlatformId {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        PlatformId::ALL
            .iter()
            .copied()
            .find(|p| p.name() == s)
            .ok_or_else(|| format!("unknown first-boot platform {s:?}"))
    }
}
