//! DRBD 8.3: the backing LV, metadata, start and connect, the initial sync
//! (on the initial primary), Primary/Primary; and the resync progress the
//! runner logs while it goes on.

use super::{backing_contents, drbd_device, drbd_now, get_gi, lv_exists};
use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::{Ctx, Found, Poll, STILL_WAITING_EVERY};
use crate::firstboot::error::{Error, Result};
use crate::firstboot::platform::common::lvm;
use crate::firstboot::platform::el5::argv;
use crate::firstboot::platform::el5::parse::drbdmeta;
use crate::firstboot::platform::el5::parse::proc_drbd::DrbdDevice;
use crate::firstboot::step::{Item, PlanLine, Role, Runs, Step};

pub static BACKING_LV: Step = Step {
    name: "backing-lv",
    title: "create the DRBD backing LV if it does not exist",
    role: Role::Both,
    runs: Runs::Once,
    run: backing_lv,
    plan: backing_lv_plan,
};

pub static DRBD_MD: Step = Step {
    name: "drbd-md",
    title: "create DRBD metadata where there is none",
    role: Role::Both,
    runs: Runs::Once,
    run: drbd_md,
    plan: drbd_md_plan,
};

pub static DRBD_START: Step = Step {
    name: "drbd-start",
    title: "start DRBD (clusterkick-drbd: drbdadm adjust) and wait until both sides are connected",
    role: Role::Both,
    runs: Runs::EveryRun,
    run: drbd_start,
    plan: drbd_start_plan,
};

pub static INITIAL_SYNC: Step = Step {
    name: "initial-sync",
    title: "start the initial sync of a brand-new pair",
    role: Role::InitialPrimary,
    runs: Runs::Once,
    run: initial_sync,
    plan: initial_sync_plan,
};

pub static DRBD_PRIMARY: Step = Step {
    name: "drbd-primary",
    title: "become Primary and wait for Primary/Primary",
    role: Role::Both,
    runs: Runs::EveryRun,
    run: drbd_primary,
    plan: drbd_primary_plan,
};

fn backing_lv(ctx: &mut Ctx) -> Result<()> {
    let d = ctx.cfg.drbd.clone();
    let found = if lv_exists(ctx, &d.backing_vg, &d.backing_lv)? {
        Found::Harmless(format!("{} exists", lvm::backing_path(ctx.cfg)))
    } else {
        Found::Nothing
    };
    ctx.destructive(
        "backing-lv",
        &lvm::lvcreate(&d.backing_size, &d.backing_lv, &d.backing_vg),
        found,
    )
}

fn backing_lv_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let d = &cfg.drbd;
    vec![
        PlanLine::check(&lvm::lvs(&d.backing_vg), "only if the LV is missing"),
        PlanLine::run(&lvm::lvcreate(
            &d.backing_size,
            &d.backing_lv,
            &d.backing_vg,
        )),
    ]
}

fn drbd_md(ctx: &mut Ctx) -> Result<()> {
    let backing = lvm::backing_path(ctx.cfg);
    let found = match backing_contents(ctx)? {
        (_, Some(sig)) => Found::Data(format!("{backing} carries {sig}")),
        (Some(gi), None) if gi.is_brand_new() => {
            Found::Harmless(format!("{backing} already has brand-new DRBD metadata"))
        }
        (Some(gi), None) => Found::Data(format!(
            "DRBD metadata on {backing} has a data generation history ({})",
            gi.line()
        )),
        (None, None) => Found::Nothing,
    };
    ctx.destructive("create-md", &argv::create_md(&ctx.cfg.drbd.resource), found)
}

fn drbd_md_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let res = &cfg.drbd.resource;
    vec![
        PlanLine::check(
            &argv::drbdadm("dump-md", res),
            "only if it exits 255: no metadata",
        ),
        PlanLine::note(format!(
            "check: no signature at the start of {}",
            lvm::backing_path(cfg)
        )),
        PlanLine::run(&argv::create_md(res)),
    ]
}

fn drbd_start(ctx: &mut Ctx) -> Result<()> {
    // Always: `drbdadm adjust all` changes nothing on a resource that is
    // up, and the script takes its subsys lock, so that rc stops DRBD at
    // shutdown between clvmd and cman.
    ctx.change(&argv::init(argv::DRBD_SERVICE, "start"))?;
    let what = format!(
        "DRBD {} to connect to {}",
        ctx.cfg.drbd.resource, ctx.cfg.peer.name
    );
    ctx.wait(&what, ctx.cfg.timeouts.drbd_connect_secs, |ctx| {
        let Some(dev) = drbd_device(ctx)? else {
            return Ok(Poll::Pending("not in /proc/drbd".into()));
        };
        if dev.cs == "StandAlone" {
            return Err(Error::Unexpected(format!(
                "DRBD {} went StandAlone ({}): split brain or unrelated data; see `clusterkick-firstboot recover`",
                ctx.cfg.drbd.resource,
                dev.summary()
            )));
        }
        if dev.is_connected() {
            return Ok(Poll::Ready(()));
        }
        Ok(Poll::Pending(dev.summary()))
    })?;
    let gi = get_gi(ctx)?;
    ctx.announce("gi", &gi.line());
    Ok(())
}

fn drbd_start_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let res = &cfg.drbd.resource;
    vec![
        PlanLine::run(&argv::init(argv::DRBD_SERVICE, "start")),
        PlanLine::note(format!(
            "wait up to {} s: /proc/drbd shows {res} connected",
            cfg.timeouts.drbd_connect_secs
        )),
        PlanLine::check(&argv::drbdadm("get-gi", res), "sent to the peer"),
    ]
}

/// Why the initial sync must not run, if it must not: anything but two
/// brand-new, Inconsistent sides.
fn initial_sync_refusal(ctx: &mut Ctx) -> Result<Option<String>> {
    let dev = drbd_now(ctx)?;
    let gi = get_gi(ctx)?;
    let peer_gi = ctx
        .peer_fact("gi")
        .and_then(|g| drbdmeta::parse_gi(&g).ok());
    let (local, peer) = (dev.local_disk().to_string(), dev.peer_disk().to_string());
    Ok(if local == "UpToDate" && peer == "UpToDate" {
        Some("both sides are UpToDate (possible split brain)".to_string())
    } else if !gi.is_brand_new() {
        Some(format!(
            "this node's DRBD metadata has a data generation history ({})",
            gi.line()
        ))
    } else if let Some(p) = peer_gi.as_ref().filter(|p| !p.is_brand_new()) {
        Some(format!(
            "{}'s DRBD metadata has a data generation history ({})",
            ctx.cfg.peer.name,
            p.line()
        ))
    } else if peer_gi.is_none() {
        Some(format!(
            "{} did not report its data generation identifiers",
            ctx.cfg.peer.name
        ))
    } else if local != "Inconsistent" || peer != "Inconsistent" {
        Some(format!(
            "disk states are {local}/{peer}, not Inconsistent/Inconsistent"
        ))
    } else {
        None
    })
}

fn initial_sync(ctx: &mut Ctx) -> Result<()> {
    let found = match initial_sync_refusal(ctx)? {
        None => Found::Nothing,
        Some(r) => Found::Data(r),
    };
    ctx.destructive("initial-sync", &initial_sync_argv(ctx.cfg), found)
}

/// The full sync from this node, or (with `skip_initial_sync`) none at all.
fn initial_sync_argv(cfg: &FirstbootConfig) -> crate::firstboot::host::Argv {
    if cfg.drbd.skip_initial_sync {
        argv::clear_bitmap_new_uuid(&cfg.drbd.resource)
    } else {
        argv::overwrite_peer_primary(&cfg.drbd.resource)
    }
}

fn initial_sync_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    vec![
        PlanLine::check(&argv::drbdadm("get-gi", &cfg.drbd.resource), ""),
        PlanLine::note("guard: both sides Inconsistent in /proc/drbd, both get-gi brand new (0000000000000004:0...:0)"),
        PlanLine::run(&initial_sync_argv(cfg)),
    ]
}

fn drbd_primary(ctx: &mut Ctx) -> Result<()> {
    let res = ctx.cfg.drbd.resource.clone();
    let dev = drbd_now(ctx)?;
    if dev.local_role() != "Primary" {
        // Never promote a side whose peer is unknown: DRBD would call the
        // fence-peer handler, i.e. fence the peer.
        let what = format!(
            "DRBD {res} to be connected to {} with both disks UpToDate, or resyncing, before promoting",
            ctx.cfg.peer.name
        );
        ctx.wait(&what, ctx.cfg.timeouts.drbd_primary_secs, |ctx| {
            let dev = drbd_now(ctx)?;
            if dev.cs == "StandAlone" {
                return Err(Error::Unexpected(format!(
                    "DRBD {} went StandAlone ({}): split brain or unrelated data; see `clusterkick-firstboot recover`",
                    ctx.cfg.drbd.resource,
                    dev.summary()
                )));
            }
            if dev.promotable() {
                return Ok(Poll::Ready(()));
            }
            Ok(Poll::Pending(dev.summary()))
        })?;
        ctx.change(&argv::drbdadm("primary", &res))?;
    }
    let what = format!("DRBD {res} to be Primary/Primary");
    let dev = ctx.wait(&what, ctx.cfg.timeouts.drbd_primary_secs, |ctx| {
        let dev = drbd_now(ctx)?;
        if dev.local_role() == "Primary" && dev.peer_role() == "Primary" {
            return Ok(Poll::Ready(dev));
        }
        Ok(Poll::Pending(dev.summary()))
    })?;
    ctx.log.info(format!("DRBD {res}: {}", dev.summary()));
    report_sync(ctx, &dev);
    Ok(())
}

fn drbd_primary_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let res = &cfg.drbd.resource;
    let secs = cfg.timeouts.drbd_primary_secs;
    let primary = argv::drbdadm("primary", res);
    let mut v = Vec::new();
    let when = format!(
        "wait up to {secs} s: /proc/drbd shows cs:Connected ds:UpToDate/UpToDate, or a resync (SyncSource/SyncTarget)"
    );
    if !cfg.drbd.initial_primary || cfg.drbd.skip_initial_sync {
        v.push(PlanLine::note(when));
        v.push(PlanLine::run(&primary));
    } else {
        v.push(PlanLine::note(format!(
            "`{primary}` only if not Primary (at a later boot), after the same check ({when})"
        )));
    }
    v.push(PlanLine::note(format!(
        "wait up to {secs} s: /proc/drbd shows ro:Primary/Primary (sync progress logged, not waited for)"
    )));
    v
}

/// Logs resync progress from a /proc/drbd device: the first time, then
/// every 10 % or every minute, and once when it is over.
pub fn report_sync(ctx: &mut Ctx, dev: &DrbdDevice) {
    let now = ctx.now();
    match (&dev.sync, ctx.progress_logged) {
        (Some(p), last) => {
            let due = match last {
                None => true,
                Some((t, pm)) => {
                    p.permille >= pm + 100
                        || now.saturating_duration_since(t) >= STILL_WAITING_EVERY
                }
            };
            if due {
                ctx.log
                    .info(format!("DRBD resync ({}): {}", dev.cs, p.describe()));
                ctx.progress_logged = Some((now, p.permille));
            }
        }
        (None, Some(_)) => {
            ctx.log
                .info(format!("DRBD resync finished: {}", dev.summary()));
            ctx.progress_logged = None;
        }
        (None, None) => {}
    }
}

/// The platform's progress: once `drbd-primary` has run, the resync (which
/// nothing waits for) is logged; true while it goes on.
pub fn progress(ctx: &mut Ctx) -> Result<bool> {
    if !ctx.state.is_completed(&Item::Step(&DRBD_PRIMARY).id()) {
        return Ok(false);
    }
    let Some(dev) = drbd_device(ctx)? else {
        return Ok(false);
    };
    report_sync(ctx, &dev);
    Ok(dev.is_syncing())
}
