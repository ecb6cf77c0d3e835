//! DRBD: the backing LV, metadata, up and connected by hand for the
//! initial sync choice, then down and handed to pacemaker, which promotes
//! it on both nodes; and the resync progress the runner logs.

use super::{
    backing_contents, crm_mon, describe_all, drbd_now, drbd_state, drbd_state_source, get_gi,
    lv_exists, names, pcmk, query_ok, watches_pacemaker,
};
use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::{Ctx, Found, Poll, STILL_WAITING_EVERY};
use crate::firstboot::error::{Error, Result};
use crate::firstboot::host::Argv;
use crate::firstboot::platform::common::lvm;
use crate::firstboot::platform::pcmk::argv;
use crate::firstboot::platform::pcmk::parse::crm_mon::CrmMon;
use crate::firstboot::platform::pcmk::parse::{cib, drbdmeta, DrbdState};
use crate::firstboot::step::{Item, PlanLine, Role, Runs, Step};
use std::time::{Duration, Instant};

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

pub static DRBD_UP: Step = Step {
    name: "drbd-up",
    title: "bring DRBD up by hand and wait until both sides are connected",
    role: Role::Both,
    runs: Runs::EveryRun,
    run: drbd_up,
    plan: drbd_up_plan,
};

pub static INITIAL_SYNC: Step = Step {
    name: "initial-sync",
    title: "start the initial sync of a brand-new pair (or skip it)",
    role: Role::InitialPrimary,
    runs: Runs::Once,
    run: initial_sync,
    plan: initial_sync_plan,
};

pub static DRBD_RELEASE: Step = Step {
    name: "drbd-release",
    title: "take DRBD down again: pacemaker brings it up from now on",
    role: Role::Both,
    runs: Runs::Once,
    run: drbd_release,
    plan: drbd_release_plan,
};

pub static DRBD_HANDOFF: Step = Step {
    name: "drbd-handoff",
    title: "hand DRBD to pacemaker (clear its clone's target-role)",
    role: Role::InitialPrimary,
    runs: Runs::Once,
    run: drbd_handoff,
    plan: drbd_handoff_plan,
};

pub static DRBD_PROMOTED: Step = Step {
    name: "drbd-promoted",
    title: "wait until pacemaker promoted DRBD and runs dlm and lvmlockd on both nodes",
    role: Role::Both,
    runs: Runs::EveryRun,
    run: drbd_promoted,
    plan: drbd_promoted_plan,
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
        (_, sigs) if !sigs.is_empty() => {
            Found::Data(format!("{backing} carries {}", describe_all(&sigs)))
        }
        (Some(u), _) if u.is_brand_new() => {
            Found::Harmless(format!("{backing} already has brand-new DRBD metadata"))
        }
        (Some(u), _) => Found::Data(format!(
            "DRBD metadata on {backing} has a data generation history ({})",
            u.line()
        )),
        (None, _) => Found::Nothing,
    };
    ctx.destructive("create-md", &argv::create_md(&ctx.cfg.drbd.resource), found)
}

fn drbd_md_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let res = &cfg.drbd.resource;
    vec![
        PlanLine::check(
            &argv::drbdadm("dump-md", res),
            "only if there is no metadata",
        ),
        PlanLine::check(
            &argv::wipefs(&lvm::backing_path(cfg)),
            "only if there is no signature",
        ),
        PlanLine::run(&argv::create_md(res)),
    ]
}

/// Past the initial-sync choice DRBD is not brought up by hand again: it
/// is going down for pacemaker (a helper restarted after its own `drbdadm
/// down` must not bring it up while the peer waits, down, at the next
/// barrier).
fn past_the_sync_choice(ctx: &Ctx) -> bool {
    ctx.state
        .is_completed(&Item::Barrier(&super::super::SYNC_STARTED).id())
}

fn drbd_up(ctx: &mut Ctx) -> Result<()> {
    let res = ctx.cfg.drbd.resource.clone();
    if past_the_sync_choice(ctx) {
        ctx.log.info(format!(
            "DRBD {res}: the initial sync choice is made; from here on pacemaker brings it up"
        ));
        return Ok(());
    }
    bring_up(ctx, &res)?;
    let what = format!("DRBD {res} to connect to {}", ctx.cfg.peer.name);
    ctx.wait(&what, ctx.cfg.timeouts.drbd_connect_secs, |ctx| {
        let Some(st) = drbd_state(ctx)? else {
            return Ok(Poll::Pending("not up".into()));
        };
        if st.cs == "StandAlone" {
            return Err(Error::Unexpected(format!(
                "DRBD {} went StandAlone ({}): split brain or unrelated data; a human must decide",
                ctx.cfg.drbd.resource,
                st.summary()
            )));
        }
        if st.is_connected() {
            return Ok(Poll::Ready(()));
        }
        Ok(Poll::Pending(st.summary()))
    })?;
    let gi = get_gi(ctx)?;
    ctx.announce("gi", &gi.line());
    Ok(())
}

/// How long a `drbdadm adjust` that did not finish is left to the
/// drbdsetup call it leaves behind before the next one.
const ADJUST_EVERY: Duration = Duration::from_secs(10);

/// `drbdadm up`, seen through to the end. drbdadm gives each drbdsetup
/// call 5 s (drbd-utils' `SLEEPS_SHORT`), then exits 20 and leaves the
/// call running: on a slow host `connect` can take longer (a CI run's VM
/// did), and the resource stays attached and StandAlone; a helper killed
/// inside `drbdadm up` leaves the same. `drbdadm adjust` then configures
/// what the running resource lacks and nothing else; it is tried again
/// every [`ADJUST_EVERY`] until DRBD leaves StandAlone or the connect
/// timeout passes. A resource that is not up at all after a failed `up`
/// is a real failure.
pub(super) fn bring_up(ctx: &mut Ctx, res: &str) -> Result<()> {
    match drbd_state(ctx)? {
        Some(st) if st.cs != "StandAlone" => {
            ctx.log.info(format!("DRBD {res} is already up"));
            return Ok(());
        }
        Some(st) => ctx.log.info(format!(
            "DRBD {res} is attached but has no connection ({}): an earlier `drbdadm up` \
             did not finish; completing it with `drbdadm adjust {res}`",
            st.summary()
        )),
        None => match ctx.change(&argv::drbdadm("up", res)) {
            Ok(_) => return Ok(()),
            Err(e) => {
                if drbd_state(ctx)?.is_none() {
                    return Err(e);
                }
                ctx.log.info(format!(
                    "DRBD {res} is attached but `drbdadm up` did not finish ({e}); \
                     completing it with `drbdadm adjust {res}`"
                ));
            }
        },
    }
    let mut last_try: Option<Instant> = None;
    let what = format!("DRBD {res} to take its connection settings");
    ctx.wait(&what, ctx.cfg.timeouts.drbd_connect_secs, |ctx| {
        if let Some(st) = drbd_state(ctx)? {
            if st.cs != "StandAlone" {
                return Ok(Poll::Ready(()));
            }
        }
        let now = ctx.now();
        if last_try.is_some_and(|t| now.saturating_duration_since(t) < ADJUST_EVERY) {
            return Ok(Poll::Pending(
                "StandAlone; the last adjust's drbdsetup may still run".into(),
            ));
        }
        last_try = Some(now);
        match ctx.change(&argv::drbdadm("adjust", res)) {
            // Its settings are in: what the connection then does is the
            // caller's to judge (a split brain goes StandAlone again).
            Ok(_) => Ok(Poll::Ready(())),
            Err(e) => Ok(Poll::Pending(format!(
                "`drbdadm adjust {res}` did not finish: {e}"
            ))),
        }
    })
}

fn drbd_up_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let res = &cfg.drbd.resource;
    vec![
        PlanLine::note(format!(
            "check: {} (skip the up if it is up, adjust if it is attached without a connection; nothing at all once past barrier sync-started)",
            drbd_state_source(cfg)
        )),
        PlanLine::run(&argv::drbdadm("up", res)),
        PlanLine::note(format!(
            "wait up to {} s: {res} connected",
            cfg.timeouts.drbd_connect_secs
        )),
        PlanLine::check(&argv::drbdadm("get-gi", res), "sent to the peer"),
    ]
}

/// Why the initial sync must not run, if it must not: anything but two
/// brand-new, Inconsistent sides.
fn initial_sync_refusal(ctx: &mut Ctx) -> Result<Option<String>> {
    let st = drbd_now(ctx)?;
    let gi = get_gi(ctx)?;
    let peer_gi = ctx.peer_fact("gi");
    let peer = peer_gi.as_deref().map(drbdmeta::parse_gi).transpose();
    Ok(if st.disk == "UpToDate" && st.peer_disk == "UpToDate" {
        Some("both sides are UpToDate (possible split brain)".to_string())
    } else if !gi.is_brand_new() {
        Some(format!(
            "this node's DRBD metadata has a data generation history ({})",
            gi.line()
        ))
    } else {
        match peer {
            Ok(Some(p)) if !p.is_brand_new() => Some(format!(
                "{}'s DRBD metadata has a data generation history ({})",
                ctx.cfg.peer.name,
                p.line()
            )),
            Ok(Some(_)) if st.disk != "Inconsistent" || st.peer_disk != "Inconsistent" => {
                Some(format!(
                    "disk states are {}/{}, not Inconsistent/Inconsistent",
                    st.disk, st.peer_disk
                ))
            }
            Ok(Some(_)) => None,
            Ok(None) | Err(_) => Some(format!(
                "{} did not report its data generation identifiers",
                ctx.cfg.peer.name
            )),
        }
    })
}

fn initial_sync_argv(cfg: &FirstbootConfig) -> Argv {
    let gen = pcmk(cfg).drbd_generation;
    if cfg.drbd.skip_initial_sync {
        argv::clear_bitmap(gen, &cfg.drbd.resource)
    } else {
        argv::force_primary(gen, &cfg.drbd.resource)
    }
}

fn initial_sync(ctx: &mut Ctx) -> Result<()> {
    let found = match initial_sync_refusal(ctx)? {
        None => Found::Nothing,
        Some(r) => Found::Data(r),
    };
    ctx.destructive("initial-sync", &initial_sync_argv(ctx.cfg), found)?;
    // The forced Primary only started the sync: Secondary again, so that
    // neither side is Primary when both go down for pacemaker (a Primary
    // losing its peer would call the fence-peer handler).
    if !ctx.dry_run && drbd_now(ctx)?.role == "Primary" {
        ctx.change(&argv::drbdadm("secondary", &ctx.cfg.drbd.resource))?;
    }
    Ok(())
}

fn initial_sync_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let res = &cfg.drbd.resource;
    let mut v = vec![
        PlanLine::check(&argv::drbdadm("get-gi", res), ""),
        PlanLine::note(format!(
            "guard: both sides Inconsistent in {}, both get-gi brand new (0000000000000004:0...)",
            drbd_state_source(cfg)
        )),
        PlanLine::run(&initial_sync_argv(cfg)),
    ];
    if !cfg.drbd.skip_initial_sync {
        v.push(PlanLine::run(&argv::drbdadm("secondary", res)));
    }
    v
}

fn drbd_release(ctx: &mut Ctx) -> Result<()> {
    let res = ctx.cfg.drbd.resource.clone();
    match drbd_state(ctx)? {
        None => ctx.log.info(format!("DRBD {res} is down already")),
        Some(st) => {
            if st.role == "Primary" {
                ctx.change(&argv::drbdadm("secondary", &res))?;
            }
            ctx.change(&argv::drbdadm("down", &res))?;
        }
    }
    Ok(())
}

fn drbd_release_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    vec![
        PlanLine::note(format!(
            "check: {} (`drbdadm secondary` first if Primary)",
            drbd_state_source(cfg)
        )),
        PlanLine::run(&argv::drbdadm("down", &cfg.drbd.resource)),
    ]
}

/// Clears a live resource's target-role if it is set; an error if the
/// live CIB does not have the resource.
pub fn clear_target_role(ctx: &mut Ctx, id: &str) -> Result<()> {
    if ctx.dry_run {
        // The CIB is not loaded in a dry run.
        return ctx.change(&argv::clear_target_role(id)).map(|_| ());
    }
    let live = query_ok(ctx, &argv::cib_query_resources())?;
    match cib::live_target_role(&live, id)? {
        None => Err(Error::Unexpected(format!(
            "the live CIB has no resource {id}"
        ))),
        Some(None) => {
            ctx.log.info(format!(
                "{id} has no target-role: pacemaker runs it already"
            ));
            Ok(())
        }
        Some(Some(_)) => ctx.change(&argv::clear_target_role(id)).map(|_| ()),
    }
}

fn drbd_handoff(ctx: &mut Ctx) -> Result<()> {
    let id = pcmk(ctx.cfg).drbd_clone.clone();
    clear_target_role(ctx, &id)
}

fn drbd_handoff_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let id = &pcmk(cfg).drbd_clone;
    vec![
        PlanLine::check(
            &argv::cib_query_resources(),
            &format!("only if {id} has a target-role"),
        ),
        PlanLine::run(&argv::clear_target_role(id)),
    ]
}

fn drbd_promoted(ctx: &mut Ctx) -> Result<()> {
    let p = pcmk(ctx.cfg).clone();
    let me = ctx.cfg.node.clone();
    let peer = ctx.cfg.peer.clone();
    if !watches_pacemaker(ctx.cfg) {
        // The initial primary checks both nodes in crm_mon before the
        // storage-ready barrier; here, pacemaker's promotion is DRBD's
        // role.
        let what = format!(
            "pacemaker to promote {} here (the initial primary checks both nodes)",
            p.drbd_clone
        );
        ctx.wait(&what, p.resources_secs, |ctx| match drbd_state(ctx)? {
            Some(st) if st.role == "Primary" => Ok(Poll::Ready(())),
            Some(st) => Ok(Poll::Pending(format!("DRBD {}", st.summary()))),
            None => Ok(Poll::Pending("DRBD is down".into())),
        })?;
    } else {
        wait_promoted_on_both(ctx, &p, &me, &peer)?;
    }
    if ctx.dry_run {
        return Ok(());
    }
    let st = drbd_now(ctx)?;
    if st.role != "Primary" {
        return Err(Error::Unexpected(format!(
            "pacemaker says {} is Promoted here, but DRBD is {}",
            p.drbd_clone,
            st.summary()
        )));
    }
    ctx.log
        .info(format!("DRBD {}: {}", ctx.cfg.drbd.resource, st.summary()));
    report_sync(ctx, &st);
    Ok(())
}

/// The initial primary's wait: crm_mon shows the DRBD clone Promoted and
/// the locking clone Started on both nodes.
fn wait_promoted_on_both(
    ctx: &mut Ctx,
    p: &crate::firstboot::config::PacemakerConfig,
    me: &crate::firstboot::config::NodeRef,
    peer: &crate::firstboot::config::NodeRef,
) -> Result<()> {
    let what = format!(
        "pacemaker to promote {} and start {} on both nodes",
        p.drbd_clone, p.locking_clone
    );
    ctx.wait(&what, p.resources_secs, |ctx| {
        let mon = match crm_mon(ctx)? {
            Ok(m) => m,
            Err(why) => return Ok(Poll::Pending(why)),
        };
        let missing = not_promoted_on(&mon, p, [me, peer]);
        if missing.is_empty() {
            Ok(Poll::Ready(()))
        } else {
            Ok(Poll::Pending(missing.join("; ")))
        }
    })
}

/// What crm_mon does not show yet on `nodes`: the DRBD clone Promoted, the
/// locking clone Started.
pub fn not_promoted_on(
    mon: &CrmMon,
    p: &crate::firstboot::config::PacemakerConfig,
    nodes: [&crate::firstboot::config::NodeRef; 2],
) -> Vec<String> {
    let mut missing = Vec::new();
    for n in nodes {
        if !mon.clone_on(&p.drbd_clone, "Promoted", &names(n)) {
            missing.push(format!("{} not Promoted on {}", p.drbd_clone, n.name));
        }
        if !mon.clone_on(&p.locking_clone, "Started", &names(n)) {
            missing.push(format!("{} not Started on {}", p.locking_clone, n.name));
        }
    }
    missing
}

fn drbd_promoted_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let p = pcmk(cfg);
    if !watches_pacemaker(cfg) {
        return vec![PlanLine::note(format!(
            "wait up to {} s: {} says Primary here (pacemaker promoted {}; the initial primary checks both nodes in `{}` before the next barrier; sync progress logged, not waited for)",
            p.resources_secs,
            drbd_state_source(cfg),
            p.drbd_clone,
            argv::crm_mon()
        ))];
    }
    vec![PlanLine::note(format!(
        "wait up to {} s: `{}` shows {} Promoted and {} Started on both nodes; then {} says Primary here (sync progress logged, not waited for)",
        p.resources_secs,
        argv::crm_mon(),
        p.drbd_clone,
        p.locking_clone,
        drbd_state_source(cfg)
    ))]
}

/// Logs resync progress: the first time, then every 10 % or every minute,
/// and once when it is over.
pub fn report_sync(ctx: &mut Ctx, st: &DrbdState) {
    match (&st.sync, ctx.progress_logged) {
        (Some(p), last) => {
            let due = match last {
                None => true,
                Some((t, pm)) => p.permille >= pm + 100 || t.elapsed() >= STILL_WAITING_EVERY,
            };
            if due {
                ctx.log
                    .info(format!("DRBD resync ({}): {}", st.cs, p.describe()));
                ctx.progress_logged = Some((Instant::now(), p.permille));
            }
        }
        (None, Some(_)) => {
            ctx.log
                .info(format!("DRBD resync finished: {}", st.summary()));
            ctx.progress_logged = None;
        }
        (None, None) => {}
    }
}

/// The platform's progress: once pacemaker promoted DRBD, the resync
/// (which nothing waits for) is logged; true while it goes on.
pub fn progress(ctx: &mut Ctx) -> Result<bool> {
    let promoted = [&DRBD_PROMOTED, &super::join::JOIN_PROMOTED];
    if !promoted
        .iter()
        .any(|s| ctx.state.is_completed(&Item::Step(s).id()))
    {
        return Ok(false);
    }
    let Some(st) = drbd_state(ctx)? else {
        return Ok(false);
    };
    report_sync(ctx, &st);
    Ok(st.is_syncing())
}
