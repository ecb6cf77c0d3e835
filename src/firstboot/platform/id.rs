//! Which platform a first-boot config names (`platform = "el5-xen"`).

use serde::{Deserialize, Serialize};

/// The `platform` of a first-boot config: which plan the helper runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlatformId {
    /// CentOS 5 with Xen, cman + openais, DRBD 8.3, clvmd, GFS2 (the seed).
    #[serde(rename = "el5-xen")]
    El5Xen,
    /// RHEL 9 family with KVM: pacemaker on corosync 3, dlm, lvmlockd,
    /// DRBD 9 (ELRepo), GFS2 (the pacemaker family).
    #[serde(rename = "el9-kvm")]
    El9Kvm,
    /// Debian 12 with KVM: the same runtime as `el9-kvm`, with the kernel's
    /// DRBD 8.4 driven by drbd-utils 9 (the pacemaker family).
    #[serde(rename = "debian12-kvm")]
    Debian12Kvm,
}

impl PlatformId {
    pub const ALL: &'static [PlatformId] = &[
        PlatformId::El5Xen,
        PlatformId::El9Kvm,
        PlatformId::Debian12Kvm,
    ];

    /// The name in `firstboot.toml` and in the profile.
    pub fn name(self) -> &'static str {
        match self {
            PlatformId::El5Xen => "el5-xen",
            PlatformId::El9Kvm => "el9-kvm",
            PlatformId::Debian12Kvm => "debian12-kvm",
        }
    }
}

impl PlatformId {
    /// A platform whose cluster runs on pacemaker and corosync 3 (its config
    /// has a `[pacemaker]` table).
    pub fn is_pacemaker(self) -> bool {
        matches!(self, PlatformId::El9Kvm | PlatformId::Debian12Kvm)
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
