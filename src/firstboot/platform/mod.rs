//! The platform seam of the helper. The engine (ctx, barrier, state, log,
//! retry, runner, recover) knows no platform; a platform is a folder here
//! holding its steps, its command lines and its tools' parsers, and one
//! [`Platform`] value (what the engine needs, defined in
//! [`crate::firstboot::step`]) that the config's `platform` picks in
//! [`for_id`].
//!
//! Adding a platform (e.g. el9 with pacemaker): a folder `platform/<name>/`
//! with its `PLATFORM`, a [`PlatformId`] variant in [`id`] (its serde name
//! is what `firstboot.toml` says), and one arm in [`for_id`]. What every Linux
//! platform spells the same way is in [`common`].

pub mod common;
pub mod el5;
pub mod id;
pub mod pcmk_pending;

pub use id::PlatformId;

use crate::firstboot::step::Platform;

/// The platform a config names: the one dispatch point of the helper.
pub fn for_id(id: PlatformId) -> &'static Platform {
    match id {
        PlatformId::El5Xen => &el5::PLATFORM,
        PlatformId::El9Kvm => &pcmk_pending::EL9_KVM,
        PlatformId::Debian12Kvm => &pcmk_pending::DEBIAN12_KVM,
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
        assert!("el10-kvm".parse::<PlatformId>().is_err());
    }
}
