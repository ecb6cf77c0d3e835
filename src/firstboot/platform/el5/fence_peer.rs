//! DRBD's fence-peer handler on el5: `fence_node <peer>`, which fences the
//! peer through cman with the devices cluster.conf gives it: the same
//! agents (and the same `delay` on the survivor's device entry) fenced
//! uses, so that whichever path fences first, the same node survives.
//!
//! `fence_node` makes one pass over the peer's fence methods and exits 0
//! (fenced) or 1; without a quorate cluster it waits for one for ever. So
//! it runs under a time limit, and again after a failure (5 s apart, as
//! fenced retries) while the limit allows. Only an exit 0 counts.

use crate::firstboot::ctx::Ctx;
use crate::firstboot::platform::el5::argv;
use crate::firstboot::retry::Deadline;
use crate::firstboot::step::FencePeerRequest;
use std::time::Duration;

/// Between a failed `fence_node` and the next (fenced's own pause).
pub const RETRY_PAUSE: Duration = Duration::from_secs(5);

/// True only when `fence_node` fenced the peer.
pub fn fence_peer(ctx: &mut Ctx, req: &FencePeerRequest, limit: Duration) -> bool {
    let peer = ctx.cfg.peer.name.clone();
    let res = ctx.cfg.drbd.resource.clone();
    ctx.log.info(format!(
        "drbd-fence-peer: DRBD {} lost {} while it may be Primary (I/O is frozen); fencing \
         {peer} with fence_node, for at most {} s",
        req.resource.as_deref().unwrap_or("(DRBD_RESOURCE not set)"),
        req.peer
            .as_deref()
            .unwrap_or("its peer (DRBD_PEER not set)"),
        limit.as_secs()
    ));
    if let Some(p) = &req.peer {
        if p != &peer && p != &ctx.cfg.peer.short {
            ctx.log.info(format!(
                "drbd-fence-peer: REFUSED: DRBD names the peer {p}, but this node's peer is \
                 {peer} ({}); fencing nobody: DRBD I/O stays frozen. drbd.conf and the helper's \
                 config disagree",
                crate::firstboot::config::DEFAULT_CONFIG_PATH
            ));
            return false;
        }
    }
    if let Some(r) = &req.resource {
        if r != &res {
            ctx.log.info(format!(
                "drbd-fence-peer: note: DRBD resource {r} is not this helper's {res}; the peer \
                 is the same node, so it is fenced all the same"
            ));
        }
    }
    let cmd = argv::fence_node(&peer);
    if ctx.dry_run {
        ctx.log.info(format!("dry-run: would run: {cmd}"));
        return false;
    }
    let deadline = Deadline::after_secs(ctx.now(), limit.as_secs());
    let mut attempt = 1u32;
    loop {
        let left = deadline.remaining(ctx.now());
        ctx.log
            .info(format!("drbd-fence-peer: run: {cmd} (attempt {attempt})"));
        let r = ctx.host.run_for(&cmd, left);
        let took = deadline.elapsed(ctx.now()).as_secs();
        if r.success() {
            ctx.log.info(format!(
                "drbd-fence-peer: {peer} was fenced ({cmd} exited 0, {took} s after the \
                 handler started); DRBD may resume I/O (exit 7)"
            ));
            return true;
        }
        if r.code == 124 {
            ctx.log.info(format!(
                "drbd-fence-peer: `{cmd}` did not finish within the limit and was killed \
                 (without a quorate cluster, fence_node waits for one for ever)"
            ));
        } else {
            ctx.log.info(format!(
                "drbd-fence-peer: `{cmd}` failed (exit {}): {}",
                r.code,
                r.last_line()
            ));
        }
        if deadline.remaining(ctx.now()) <= RETRY_PAUSE {
            break;
        }
        ctx.host.sleep(RETRY_PAUSE);
        attempt += 1;
    }
    ctx.log.info(format!(
        "drbd-fence-peer: could not fence {peer} within {} s: DRBD keeps {res}'s I/O frozen \
         (the safe state) until {peer} is fenced (fence_node {peer}) or known to be off; then \
         `drbdadm resume-io {res}`",
        limit.as_secs()
    ));
    false
}
