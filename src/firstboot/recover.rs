//! `recover`: the seed's section 7.3 done right.
//!
//! The operator names the node that holds the good data; it is never
//! guessed. DRBD first (LVM on top of it needs a Primary DRBD), then the
//! rescan and activation of the clustered LVs, then the GFS2 mounts.
//!
//! - `--trust-this-node` (the survivor): `drbdadm connect r0` if StandAlone,
//!   `drbdadm primary r0` if Secondary.
//! - `--peer-is-trusted` (the split-brain victim): unmount its GFS2, deactivate
//!   its clustered LVs locally, `drbdadm secondary r0`, `drbdadm -- --discard-my-data
//!   connect r0` (DRBD 8.3), then `drbdadm primary r0` once it syncs from
//!   the survivor. The seed's `drbdadm -- --overwrite-data-of-peer connect`
//!   is not used: that option belongs to `primary`, not `connect`.

use crate::firstboot::barrier;
use crate::firstboot::commands as cmd;
use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::{Ctx, Poll};
use crate::firstboot::error::{exit, Error, Result};
use crate::firstboot::log::{Logger, PROGRAM};
use crate::firstboot::parse::{self, DrbdDevice};
use crate::firstboot::runner::{load_config, Options};
use crate::firstboot::state::State;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// This node holds the good data (the survivor).
    ThisNode,
    /// The peer holds the good data; this node's changes are discarded.
    Peer,
}

pub fn recover(opts: &Options, trust: Trust) -> i32 {
    let cfg = match load_config(&opts.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PROGRAM}: {e}");
            return e.exit_code();
        }
    };
    let log_file = (!opts.dry_run).then_some(cfg.log_file.as_path());
    let mut log = Logger::new(&cfg.node.short, log_file, true);
    match recover_with(&cfg, opts, trust, &mut log) {
        Ok(()) => exit::OK,
        Err(e) => {
            let code = e.exit_code();
            log.info(format!("recover stopped (exit {code}): {e}"));
            code
        }
    }
}

fn recover_with(
    cfg: &FirstbootConfig,
    opts: &Options,
    trust: Trust,
    log: &mut Logger,
) -> Result<()> {
    let mut node = (opts.open)(cfg)?;
    let mut ctx = Ctx {
        cfg,
        node: node.as_mut(),
        log: std::mem::replace(log, Logger::silent(&cfg.node.short)),
        state: State::new(&cfg.node.name),
        state_path: None,
        link: None,
        dry_run: opts.dry_run,
        key: barrier::load_key(&cfg.key_file).unwrap_or_default(),
        minor: cmd::drbd_minor(&cfg.drbd.device).unwrap_or(0),
        sync_logged: None,
    };
    let result = match run_recover(&mut ctx, trust) {
        Err(e @ Error::DryRunWait(_)) => {
            ctx.log.info(format!("dry-run: recover stops here: {e}"));
            Ok(())
        }
        other => other,
    };
    *log = ctx.log;
    result
}

fn dev_or_err(ctx: &mut Ctx) -> Result<DrbdDevice> {
    ctx.drbd_device()?
        .filter(|d| d.is_configured())
        .ok_or_else(|| Error::Unexpected(format!("{} is not configured", ctx.cfg.drbd.device)))
}

pub fn run_recover(ctx: &mut Ctx, trust: Trust) -> Result<()> {
    let res = ctx.cfg.drbd.resource.clone();
    let (trusted, other) = match trust {
        Trust::ThisNode => (ctx.cfg.node.name.clone(), ctx.cfg.peer.name.clone()),
        Trust::Peer => (ctx.cfg.peer.name.clone(), ctx.cfg.node.name.clone()),
    };
    ctx.log.info(format!(
        "recover: the operator named {trusted} as holding the good data; changes made on {other} while split are discarded"
    ));

    // DRBD.
    if !ctx.drbd_device()?.is_some_and(|d| d.is_configured()) {
        ctx.change(&cmd::init("drbd", "start"))?;
    }
    let dev = if ctx.dry_run {
        ctx.drbd_device()?.unwrap_or_default()
    } else {
        dev_or_err(ctx)?
    };
    ctx.log
        .info(format!("recover: DRBD {res} is {}", dev.summary()));
    if dev.is_connected() {
        ctx.log
            .info("recover: DRBD is connected: nothing is discarded");
    } else {
        match trust {
            Trust::Peer => discard_local(ctx, &dev)?,
            Trust::ThisNode => {
                if dev.cs == "StandAlone" {
                    ctx.change(&cmd::drbdadm("connect", &res))?;
                }
            }
        }
        let what = format!("DRBD {res} to reconnect to {}", ctx.cfg.peer.name);
        ctx.wait(&what, ctx.cfg.timeouts.drbd_connect_secs, |ctx| {
            let dev = dev_or_err(ctx)?;
            if dev.is_connected() {
                return Ok(Poll::Ready(()));
            }
            Ok(Poll::Pending(dev.summary()))
        })?;
    }
    let dev = if ctx.dry_run { dev } else { dev_or_err(ctx)? };
    if dev.local_role() != "Primary" {
        ctx.change(&cmd::drbdadm("primary", &res))?;
    }
    let what = format!("DRBD {res} to be Primary/Primary");
    ctx.wait(&what, ctx.cfg.timeouts.drbd_primary_secs, |ctx| {
        let dev = dev_or_err(ctx)?;
        ctx.report_sync(&dev);
        if dev.local_role() == "Primary" && dev.peer_role() == "Primary" {
            return Ok(Poll::Ready(()));
        }
        Ok(Poll::Pending(dev.summary()))
    })?;

    // LVM: rescan, make sure clvmd runs, activate the clustered LVs.
    ctx.change(&cmd::pvscan())?;
    ctx.change(&cmd::vgscan())?;
    ctx.change(&cmd::lvscan())?;
    if !ctx.query(&cmd::init("clvmd", "status")).success() {
        ctx.change(&cmd::init("clvmd", "start"))?;
    }
    let volumes = ctx.cfg.clvm.volumes.clone();
    for vol in &volumes {
        ctx.change(&cmd::lvchange_activate(&cmd::volume_path(ctx.cfg, vol)))?;
    }

    // GFS2: mount what fstab lists and is not mounted.
    let fstab = ctx.read("/etc/fstab").unwrap_or_default();
    let mounts = ctx.read("/proc/mounts").unwrap_or_default();
    let fstab = parse::parse_mounts(&fstab);
    let mounts = parse::parse_mounts(&mounts);
    for vol in &volumes {
        let Some(g) = &vol.gfs2 else { continue };
        let listed = fstab.iter().any(|e| e.dir == g.mountpoint);
        let mounted = mounts
            .iter()
            .any(|m| m.dir == g.mountpoint && m.fstype == "gfs2");
        if listed && !mounted {
            ctx.change(&cmd::mount(&g.mountpoint))?;
        }
    }
    ctx.log.info("recover: done");
    Ok(())
}

/// The victim's side: release the device, go Secondary, reconnect
/// discarding its own changes.
fn discard_local(ctx: &mut Ctx, dev: &DrbdDevice) -> Result<()> {
    let res = ctx.cfg.drbd.resource.clone();
    let volumes = ctx.cfg.clvm.volumes.clone();
    let mounts = ctx.read("/proc/mounts").unwrap_or_default();
    let mounts = parse::parse_mounts(&mounts);
    for vol in &volumes {
        let Some(g) = &vol.gfs2 else { continue };
        if mounts
            .iter()
            .any(|m| m.dir == g.mountpoint && m.fstype == "gfs2")
        {
            ctx.change(&cmd::umount(&g.mountpoint))?;
        }
    }
    let lvs = ctx.query(&cmd::lvs(&ctx.cfg.clvm.vg));
    if lvs.success() {
        let rows = parse::parse_lvs(&lvs.stdout);
        for vol in &volumes {
            if rows.iter().any(|r| r.lv == vol.name && r.active()) {
                ctx.change(&cmd::lvchange_deactivate_local(&cmd::volume_path(
                    ctx.cfg, vol,
                )))?;
            }
        }
    }
    if dev.local_role() == "Primary" {
        ctx.change(&cmd::drbdadm("secondary", &res))?;
    }
    if dev.cs != "StandAlone" {
        ctx.change(&cmd::drbdadm("disconnect", &res))?;
    }
    ctx.change(&cmd::discard_my_data_connect(&res))?;
    Ok(())
}
