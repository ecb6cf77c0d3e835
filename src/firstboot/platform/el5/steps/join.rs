//! A replacement node (`role = "replacement"`) joining its survivor: the
//! checks that come in place of the initial pair's creating steps, and
//! what every node tells a replacement peer about its DRBD.

use super::drbd_device;
use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::{Ctx, Poll};
use crate::firstboot::error::{Error, Result};
use crate::firstboot::platform::common::join::{self, drbd_facts, join_state};
use crate::firstboot::step::{PlanLine, Role, Runs, Step};

pub static SURVIVOR: Step = Step {
    name: "survivor",
    title: "check that the peer is a survivor: its setup is done and it holds the data",
    role: Role::Both,
    runs: Runs::Once,
    run: survivor,
    plan: survivor_plan,
};

pub static SURVIVOR_DISK: Step = Step {
    name: "survivor-disk",
    title: "wait for the survivor's DRBD disk to be UpToDate and waiting for its peer; refuse otherwise",
    role: Role::Both,
    runs: Runs::Once,
    run: survivor_disk,
    plan: survivor_disk_plan,
};

pub static JOIN_SYNC: Step = Step {
    name: "join-sync",
    title: "check that this node is the sync target of the survivor's UpToDate data",
    role: Role::Both,
    runs: Runs::Once,
    run: join_sync,
    plan: join_sync_plan,
};

fn survivor(ctx: &mut Ctx) -> Result<()> {
    join::check_survivor_is_set_up(ctx)
}

fn survivor_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    vec![PlanLine::note(format!(
        "check: {} says on the back channel that its setup is done (refuse, exit 13, if not)",
        cfg.peer.name
    ))]
}

fn survivor_disk(ctx: &mut Ctx) -> Result<()> {
    join::wait_for_survivor_disk(ctx)
}

fn survivor_disk_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    vec![PlanLine::note(format!(
        "wait up to {} s: {} reports its DRBD {} with ds UpToDate and cs WFConnection (no peer); \
         refuse (exit 13) on any other disk state, on a peer already connected, or when the time runs out",
        cfg.timeouts.drbd_connect_secs, cfg.peer.name, cfg.drbd.resource
    ))]
}

fn join_sync(ctx: &mut Ctx) -> Result<()> {
    let res = ctx.cfg.drbd.resource.clone();
    let peer = ctx.cfg.peer.name.clone();
    let what = format!("DRBD {res} to resync this node from {peer}");
    let dev = ctx.wait(&what, ctx.cfg.timeouts.drbd_connect_secs, |ctx| {
        let Some(dev) = drbd_device(ctx)? else {
            return Ok(Poll::Pending("not in /proc/drbd".into()));
        };
        match join_state(
            &dev.cs,
            dev.local_disk(),
            dev.peer_disk(),
            &ctx.cfg.drbd.resource,
        ) {
            Ok(true) => Ok(Poll::Ready(dev)),
            Ok(false) => Ok(Poll::Pending(dev.summary())),
            Err(why) => Err(Error::SurvivorNotReady(format!(
                "{why} ({})",
                dev.summary()
            ))),
        }
    })?;
    ctx.log.info(format!(
        "DRBD {res}: {}: this node receives {peer}'s data",
        dev.summary()
    ));
    Ok(())
}

fn join_sync_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    vec![PlanLine::note(format!(
        "wait up to {} s: /proc/drbd shows cs:SyncTarget with the peer's disk UpToDate (or \
         cs:Connected ds:UpToDate/UpToDate); refuse (exit 13) on a stale peer disk, and if this \
         node is ever the sync source",
        cfg.timeouts.drbd_connect_secs
    ))]
}

/// What this node tells a replacement peer: its DRBD state from /proc/drbd
/// (`Unconfigured` when the module or the minor is not there).
pub fn facts(ctx: &mut Ctx) -> Vec<(&'static str, String)> {
    match drbd_device(ctx) {
        Ok(Some(dev)) if dev.is_configured() => {
            drbd_facts(&dev.cs, dev.local_role(), dev.local_disk())
        }
        Ok(_) => drbd_facts("Unconfigured", "Unconfigured", "Unconfigured"),
        Err(e) => {
            ctx.log.info(format!(
                "could not read this node's DRBD state for the peer: {e}"
            ));
            Vec::new()
        }
    }
}
