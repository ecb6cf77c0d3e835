//! The platform seam of the helper. The engine (ctx, barrier, state, log,
//! retry, runner, recover) knows no platform; a platform is a folder here
//! holding its steps, its command lines and its tools' parsers, and one
//! [`Platform`] value that the config's `platform` picks in [`for_id`].
//!
//! Adding a platform (e.g. el9 with pacemaker): a folder `platform/<name>/`
//! with its `PLATFORM`, a [`PlatformId`] variant (its serde name is what
//! `firstboot.toml` says), and one arm in [`for_id`]. What every Linux
//! platform spells the same way is in [`common`].

pub mod common;
pub mod el5;

use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::Result;
use crate::firstboot::recover::Trust;
use crate::firstboot::step::Item;
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

/// Everything the engine needs from a platform.
pub struct Platform {
    pub id: PlatformId,
    /// The steps and barriers, in order; the first is
    /// [`crate::firstboot::step::MEET`].
    pub items: &'static [Item],
    /// Logs background work that outlives its step (a DRBD resync), if any
    /// is going on; true while it goes on. The runner calls it after each
    /// step, then until it returns false once the last step is done.
    pub progress: fn(&mut Ctx) -> Result<bool>,
    /// `recover`: brings storage back after a split brain, keeping the data
    /// of the node the operator trusts.
    pub recover: fn(&mut Ctx, Trust) -> Result<()>,
}

/// The platform a config names: the one dispatch point of the helper.
pub fn for_id(id: PlatformId) -> &'static Platform {
    match id {
        PlatformId::El5Xen => &el5::PLATFORM,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firstboot::step::check_items;

    #[test]
    fn every_platform_has_a_well_formed_plan() {
        for &id in PlatformId::ALL {
            let p = for_id(id);
            assert_eq!(p.id, id);
            if let Err(e) = check_items(p.items) {
                panic!("{id}: {e}");
            }
            assert_eq!(id.name().parse::<PlatformId>(), Ok(id));
        }
        assert!("el9-kvm".parse::<PlatformId>().is_err());
    }
}
