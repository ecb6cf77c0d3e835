//! What the pacemaker family does for the engine's lone-node commands.
//!
//! On EL5 the helper owns the boot sequence, so it also owns `start-alone`
//! and DRBD's fence-peer handler. On this family corosync's votequorum
//! (`two_node: 1`, which implies `wait_for_all`) keeps a lone node from
//! running anything until it has seen its peer once, pacemaker fences, and
//! DRBD's handlers are drbd-utils' own crm-fence-peer scripts. The helper
//! does not second-guess them: `start-alone` refuses and names the
//! documented way, `drbd-fence-peer` is not DRBD's handler here and never
//! claims a fence it did not do.

use std::time::Duration;

use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::{Error, Result};
use crate::firstboot::host::Argv;
use crate::firstboot::platform::pcmk::argv;
use crate::firstboot::step::FencePeerRequest;

const HOW: &str = "corosync's wait_for_all keeps a lone node from running \
resources until it has seen its peer; to start this node without its peer, \
first make sure the peer is powered off, then cancel the wait (el9: `pcs quorum unblock`; \
any: `corosync-cmapctl -s quorum.cancel_wait_for_all u8 1`), and pacemaker \
fences the peer and starts the resources (docs/firstboot.md, pacemaker family, a lone node)";

pub fn start_alone(ctx: &mut Ctx) -> Result<()> {
    Err(Error::Refused(format!(
        "start-alone is not how a lone node starts on {}: {HOW}",
        ctx.cfg.platform
    )))
}

pub fn start_alone_warning(cfg: &FirstbootConfig) -> Vec<String> {
    vec![format!(
        "start-alone does nothing on {}: {HOW}",
        cfg.platform
    )]
}

pub fn helper_service_start() -> Argv {
    Argv::new(["systemctl", "start", "--no-block", argv::FIRSTBOOT_UNIT])
}

/// Never fences, so never says the peer is fenced (DRBD's handler exits 1).
pub fn fence_peer(ctx: &mut Ctx, _req: &FencePeerRequest, _limit: Duration) -> bool {
    ctx.log.info(format!(
        "drbd-fence-peer is not DRBD's fence-peer handler on {}: drbd.conf names drbd-utils' \
         crm-fence-peer script; nothing was fenced",
        ctx.cfg.platform
    ));
    false
}
