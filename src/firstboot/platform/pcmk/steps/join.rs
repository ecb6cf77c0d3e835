//! A replacement node (`role = "replacement"`) on the pacemaker family:
//! new hardware in the place of a node that died, joining the survivor,
//! which holds the data. It creates nothing shared.
//!
//! The survivor runs no helper after its first boot (pacemaker starts its
//! cluster at boot), so nobody answers on the back channel: this node
//! learns the survivor's state from DRBD and pacemaker themselves, and its
//! plan has no barrier. The operator runs nothing on the survivor.
//!
//! 1. its own disk, with the initial plan's guards: `inspect`, the
//!    backing LV, `create-md` (the two operations
//!    [`REPLACEMENT_OPS`](crate::firstboot::step::REPLACEMENT_OPS) allows);
//! 2. [`SURVIVOR_DRBD`]: DRBD up by hand, once, before the cluster stack:
//!    this node must become the sync target of the survivor's UpToDate
//!    data, and is never its source; then down again, whatever it saw;
//! 3. corosync and pacemaker: the survivor's CIB holds every resource, so
//!    pacemaker brings DRBD up here (the resync goes on), promotes it once
//!    the survivor's fence constraint is lifted at the end of the resync,
//!    then starts dlm, lvmlockd, the shared LVs and GFS2;
//! 4. [`JOIN_PROMOTED`] and `all-started` wait for that (the resync bounds
//!    nothing: the wait's time counts only while it does not move), the
//!    sync direction checked at every poll;
//! 5. a check file written on each GFS2 mount and read back here
//!    ([`FS_READBACK`]), then `finish` as on an initial node.

use super::drbd::report_sync;
use super::{crm_mon, drbd_state, drbd_state_source, pcmk};
use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::{Ctx, Poll};
use crate::firstboot::error::{Error, Result};
use crate::firstboot::platform::common::join::join_state;
use crate::firstboot::platform::pcmk::argv::{self, PACEMAKER};
use crate::firstboot::platform::pcmk::parse::DrbdState;
use crate::firstboot::step::{Item, PlanLine, Role, Runs, Step};

use super::{check, cluster, drbd, inspect, storage};

pub static SURVIVOR_DRBD: Step = Step {
    name: "survivor-drbd",
    title: "connect DRBD by hand once: this node must be the sync target of the survivor's UpToDate data; then down again",
    role: Role::Both,
    runs: Runs::Once,
    run: survivor_drbd,
    plan: survivor_drbd_plan,
};

pub static JOIN_PROMOTED: Step = Step {
    name: "join-promoted",
    title: "wait until pacemaker resynced and promoted DRBD here and runs dlm and lvmlockd on both nodes",
    role: Role::Both,
    runs: Runs::EveryRun,
    run: join_promoted,
    plan: join_promoted_plan,
};

pub static FS_READBACK: Step = Step {
    name: "fs-readback",
    title: "read this node's check file back on each GFS2 mount and compare its sha256",
    role: Role::Both,
    runs: Runs::Once,
    run: check::fs_read_own,
    plan: check::fs_read_own_plan,
};

/// The plan of a replacement node. No barrier: no helper answers on the
/// survivor.
pub static REPLACEMENT_ITEMS: &[Item] = &[
    Item::Step(&inspect::INSPECT),
    Item::Step(&drbd::BACKING_LV),
    Item::Step(&drbd::DRBD_MD),
    Item::Step(&SURVIVOR_DRBD),
    Item::Step(&cluster::CLUSTER),
    Item::Step(&JOIN_PROMOTED),
    Item::Step(&storage::ALL_STARTED),
    Item::Step(&check::FS_WRITE),
    Item::Step(&FS_READBACK),
    Item::Step(&check::FINISH),
];

/// No facts: on this family no helper asks a peer for them.
pub fn facts(_ctx: &mut Ctx) -> Vec<(&'static str, String)> {
    Vec::new()
}

/// What a connected DRBD here means for the join: `Err` refuses (exit 13).
fn judge(ctx: &Ctx, st: &DrbdState) -> Result<bool> {
    join_state(&st.cs, &st.disk, &st.peer_disk, &ctx.cfg.drbd.resource).map_err(|why| {
        Error::SurvivorNotReady(format!(
            "{why} ({}); the survivor is {}",
            st.summary(),
            ctx.cfg.peer.name
        ))
    })
}

fn survivor_drbd(ctx: &mut Ctx) -> Result<()> {
    let res = ctx.cfg.drbd.resource.clone();
    let peer = ctx.cfg.peer.name.clone();
    // pacemaker is not enabled on a replacement before `finish`: it runs
    // only because the `cluster` step (after this one) started it, or a
    // human did. Either way DRBD is its own and is not taken down here.
    if !ctx.dry_run && ctx.query(&argv::is_active(PACEMAKER)).success() {
        ctx.log.info(format!(
            "pacemaker runs here already: DRBD {res} is its own; not brought up by hand"
        ));
        return Ok(());
    }
    super::drbd::bring_up(ctx, &res)?;
    let what = format!("DRBD {res} to connect to {peer} (the survivor) and resync this node");
    let seen = ctx.wait(&what, ctx.cfg.timeouts.drbd_connect_secs, |ctx| {
        let Some(st) = drbd_state(ctx)? else {
            return Ok(Poll::Pending("not up".into()));
        };
        if st.cs == "StandAlone" {
            return Err(Error::SurvivorNotReady(format!(
                "DRBD {res} went StandAlone ({}): {peer} refused this node's disk (split brain, \
                 another resource's data, or a wrong shared secret). Nothing was synced",
                st.summary()
            )));
        }
        if !st.is_connected() {
            return Ok(Poll::Pending(st.summary()));
        }
        Ok(if judge(ctx, &st)? {
            Poll::Ready(st)
        } else {
            Poll::Pending(st.summary())
        })
    });
    // Down again whatever was seen: pacemaker brings it up from now on,
    // and a refused join leaves nothing connected.
    let down = if ctx.dry_run {
        Ok(())
    } else {
        ctx.change(&argv::drbdadm("down", &res)).map(|_| ())
    };
    match seen {
        Ok(st) => {
            down?;
            ctx.log.info(format!(
                "DRBD {res}: {}: this node receives {peer}'s data; down again until pacemaker \
                 brings it up",
                st.summary()
            ));
            Ok(())
        }
        Err(Error::Timeout { secs, last, .. }) => Err(Error::SurvivorNotReady(format!(
            "DRBD {res} did not connect to {peer} as its sync target within {secs} s (last \
             seen: {last}). Is {peer} up, with pacemaker running DRBD there, reachable on the \
             replication network, and the node this one replaces powered off for good? \
             Nothing that touches shared data ran"
        ))),
        Err(e) => Err(e),
    }
}

fn survivor_drbd_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let res = &cfg.drbd.resource;
    vec![
        PlanLine::check(
            &argv::is_active(PACEMAKER),
            "skip the step if pacemaker runs here (DRBD is its own)",
        ),
        PlanLine::note(format!(
            "check: {} (skip the up if it is up, adjust if it is attached without a connection)",
            drbd_state_source(cfg)
        )),
        PlanLine::run(&argv::drbdadm("up", res)),
        PlanLine::note(format!(
            "wait up to {} s: connected to {}, this node SyncTarget (or UpToDate on both) and the peer's disk UpToDate; refuse (exit 13) on a stale peer disk, on StandAlone, if this node is ever the sync source, and when the time runs out",
            cfg.timeouts.drbd_connect_secs, cfg.peer.name
        )),
        PlanLine::run(&argv::drbdadm("down", res)),
    ]
}

fn join_promoted(ctx: &mut Ctx) -> Result<()> {
    let p = pcmk(ctx.cfg).clone();
    let me = ctx.cfg.node.clone();
    let peer = ctx.cfg.peer.clone();
    let res = ctx.cfg.drbd.resource.clone();
    let what = format!(
        "pacemaker to resync DRBD {res} here, promote {} and start {} on both nodes",
        p.drbd_clone, p.locking_clone
    );
    let mut best: Option<u32> = None;
    ctx.wait(&what, p.resources_secs, |ctx| {
        let st = drbd_state(ctx)?;
        let mut missing = Vec::new();
        let mut moving = false;
        match &st {
            None => missing.push(format!("DRBD {res} is not up here")),
            Some(st) => {
                if st.is_connected() {
                    judge(ctx, st)?;
                }
                if let Some(s) = &st.sync {
                    moving = best.is_none_or(|b| s.permille > b);
                    best = Some(best.map_or(s.permille, |b| b.max(s.permille)));
                    report_sync(ctx, st);
                    missing.push(format!("resync {}", s.describe()));
                } else if st.role != "Primary" {
                    let hint = if st.disk == "UpToDate" && st.peer_disk == "UpToDate" {
                        format!(
                            " (both disks UpToDate: if it stays so, look for a fence constraint \
                             left in the CIB, `drbd-fence-by-handler-{res}-{}`)",
                            p.drbd_clone
                        )
                    } else {
                        String::new()
                    };
                    missing.push(format!("DRBD {}{hint}", st.summary()));
                }
            }
        }
        let mon = match crm_mon(ctx)? {
            Ok(m) => m,
            Err(why) => {
                missing.push(why);
                return Ok(pending(missing, moving));
            }
        };
        missing.extend(drbd::not_promoted_on(&mon, &p, [&me, &peer]));
        if missing.is_empty() {
            Ok(Poll::Ready(()))
        } else {
            Ok(pending(missing, moving))
        }
    })?;
    if let Some(st) = drbd_state(ctx)? {
        ctx.log.info(format!("DRBD {res}: {}", st.summary()));
    }
    Ok(())
}

fn pending(missing: Vec<String>, moving: bool) -> Poll<()> {
    let text = missing.join("; ");
    if moving {
        Poll::Moving(text)
    } else {
        Poll::Pending(text)
    }
}

fn join_promoted_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let p = pcmk(cfg);
    vec![PlanLine::note(format!(
        "wait: `{}` shows {} Promoted and {} Started on both nodes and {} says Primary here; up to {} s without the resync moving (pacemaker promotes this node once the resync from {} is over); refuse (exit 13) if {} ever shows this node the sync source or the peer's disk stale",
        argv::crm_mon(),
        p.drbd_clone,
        p.locking_clone,
        drbd_state_source(cfg),
        p.resources_secs,
        cfg.peer.name,
        drbd_state_source(cfg),
    ))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firstboot::step::REPLACEMENT_OPS;

    #[test]
    fn the_replacement_plan_creates_nothing_shared_and_has_no_barrier() {
        let steps: Vec<&str> = REPLACEMENT_ITEMS
            .iter()
            .map(|i| match i {
                Item::Step(s) => s.name,
                Item::Barrier(b) => panic!("barrier {} in the replacement plan", b.name),
            })
            .collect();
        assert_eq!(
            steps,
            [
                "inspect",
                "backing-lv",
                "drbd-md",
                "survivor-drbd",
                "cluster",
                "join-promoted",
                "all-started",
                "fs-write",
                "fs-readback",
                "finish"
            ]
        );
        for never in [
            "cib-load",
            "initial-sync",
            "drbd-handoff",
            "shared-vg",
            "gfs2-mkfs",
            "storage-start",
        ] {
            assert!(!steps.contains(&never), "{never}");
        }
        assert_eq!(REPLACEMENT_OPS, ["backing-lv", "create-md"]);
    }
}
