//! The simulator (test-only, cargo feature `sim`): a pair of nodes for the
//! tests to run the real helper engine against, one simulator per
//! platform's tool set (today [`el5`]), picked by the config's platform as
//! the helper picks its plan. `clusterkick-firstboot-sim` runs the helper's
//! own command line with [`open`] in place of the real host; the helper
//! that ships holds none of this.

pub mod el5;

use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::error::{Error, Result};
use crate::firstboot::host::Host;
use crate::firstboot::platform::id::PlatformId;
use std::path::PathBuf;

/// The folder of the simulated world `clusterkick-firstboot-sim` acts on.
/// Read only by that test binary: the helper that ships has no simulator.
pub const WORLD_ENV: &str = "CLUSTERKICK_FIRSTBOOT_SIM";

/// Exit code of a simulated crash (the `crash_after_change`,
/// `reboot_after_change` faults) or of a world that cannot be read.
pub const CRASH_EXIT: i32 = 99;

/// The [`crate::firstboot::OpenHost`] of `clusterkick-firstboot-sim`: this
/// node of the world in [`WORLD_ENV`] (which must be set), simulated for
/// the config's platform.
pub fn open(cfg: &FirstbootConfig) -> Result<Box<dyn Host>> {
    let dir = match std::env::var_os(WORLD_ENV) {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => {
            return Err(Error::Unexpected(format!(
                "{WORLD_ENV} is not set: clusterkick-firstboot-sim acts only on a simulated world"
            )))
        }
    };
    match cfg.platform {
        PlatformId::El5Xen => el5::open(&dir, cfg),
        // PROVISIONAL (see platform::pcmk_pending): p11-helper's sim::pcmk.
        PlatformId::El9Kvm | PlatformId::Debian12Kvm => Err(Error::Unexpected(format!(
            "no simulator for {} in this tree",
            cfg.platform
        ))),
    }
}
