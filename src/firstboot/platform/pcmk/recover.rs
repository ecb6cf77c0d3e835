//! `recover` on the pacemaker family: not automated. With pacemaker owning
//! DRBD (and `fencing resource-and-stonith` with the crm-fence-peer
//! handlers), a split brain needs pacemaker's own tools; the helper says
//! so rather than guess.

use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::{Error, Result};
use crate::firstboot::step::Trust;

pub fn recover(ctx: &mut Ctx, _trust: Trust) -> Result<()> {
    Err(Error::Unexpected(format!(
        "recover is not automated on {}: pacemaker owns DRBD here; see docs/firstboot.md (pacemaker family, split brain) for the commands to run by hand",
        ctx.cfg.platform
    )))
}
