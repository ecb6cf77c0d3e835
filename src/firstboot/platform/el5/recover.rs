//! `recover` on el5: the seed's section 7.3 done right.
//!
//! The operator names the node that holds the good data; it is never
//! guessed. DRBD first (LVM on top of it needs a Primary DRBD), then the
//! rescan and activation of the clustered LVs, then the GFS2 mounts.
//!
//! DRBD is started with our `clusterkick-drbd` init script and GFS2 is
//! mounted with the `gfs2` init script (never `/etc/init.d/drbd`, never a
//! bare `mount`): started that way they hold their subsys locks, and rc
//! stops them at shutdown in order.
//!
//! - `--trust-this-node` (the survivor): `drbdadm connect r0` if StandAlone,
//!   `drbdadm primary r0` if Secondary.
//! - `--peer-is-trusted` (the split-brain victim): unmount its GFS2, deactivate
//!   its clustered LVs locally, `drbdadm secondary r0`, `drbdadm -- --discard-my-data
//!   connect r0` (DRBD 8.3), then `drbdadm primary r0` once it syncs from
//!   the survivor. The seed's `drbdadm -- --overwrite-data-of-peer connect`
//!   is not used: that option belongs to `primary`, not `connect`.

use super::argv;
use super::parse::proc_drbd::DrbdDevice;
use super::steps::drbd::report_sync;
use super::steps::drbd_device;
use crate::firstboot::ctx::{Ctx, Poll};
use crate::firstboot::error::{Error, Result};
use crate::firstboot::platform::common::{lvm, mounts, umount};
use crate::firstboot::step::Trust;

fn dev_or_err(ctx: &mut Ctx) -> Result<DrbdDevice> {
    drbd_device(ctx)?
        .filter(|d| d.is_configured())
        .ok_or_else(|| Error::Unexpected(format!("{} is not configured", ctx.cfg.drbd.device)))
}

/// The platform's `recover`.
pub fn recover(ctx: &mut Ctx, trust: Trust) -> Result<()> {
    let (trusted, other) = match trust {
        Trust::ThisNode => (ctx.cfg.node.name.clone(), ctx.cfg.peer.name.clone()),
        Trust::Peer => (ctx.cfg.peer.name.clone(), ctx.cfg.node.name.clone()),
    };
    ctx.log.info(format!(
        "recover: the operator named {trusted} as holding the good data; changes made on {other} while split are discarded"
    ));
    drbd(ctx, trust)?;
    lvm_and_gfs2(ctx)?;
    ctx.log.info("recover: done");
    Ok(())
}

/// DRBD connected (discarding the untrusted side's changes) and
/// Primary/Primary.
fn drbd(ctx: &mut Ctx, trust: Trust) -> Result<()> {
    let res = ctx.cfg.drbd.resource.clone();
    if !drbd_device(ctx)?.is_some_and(|d| d.is_configured()) {
        ctx.change(&argv::init(argv::DRBD_SERVICE, "start"))?;
    }
    let dev = if ctx.dry_run {
        drbd_device(ctx)?.unwrap_or_default()
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
                    ctx.change(&argv::drbdadm("connect", &res))?;
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
        ctx.change(&argv::drbdadm("primary", &res))?;
    }
    let what = format!("DRBD {res} to be Primary/Primary");
    ctx.wait(&what, ctx.cfg.timeouts.drbd_primary_secs, |ctx| {
        let dev = dev_or_err(ctx)?;
        report_sync(ctx, &dev);
        if dev.local_role() == "Primary" && dev.peer_role() == "Primary" {
            return Ok(Poll::Ready(()));
        }
        Ok(Poll::Pending(dev.summary()))
    })?;
    Ok(())
}

/// LVM: rescan, make sure clvmd runs, activate the clustered LVs; then
/// mount what fstab lists and is not mounted.
fn lvm_and_gfs2(ctx: &mut Ctx) -> Result<()> {
    ctx.change(&lvm::pvscan())?;
    ctx.change(&lvm::vgscan())?;
    ctx.change(&lvm::lvscan())?;
    if !ctx.query(&argv::init("clvmd", "status")).success() {
        ctx.change(&argv::init("clvmd", "start"))?;
    }
    let volumes = ctx.cfg.clvm.volumes.clone();
    for vol in &volumes {
        ctx.change(&lvm::lvchange_activate(&lvm::volume_path(ctx.cfg, vol)))?;
    }
    let fstab = ctx.read("/etc/fstab").unwrap_or_default();
    let mounted = ctx.read("/proc/mounts").unwrap_or_default();
    let fstab = mounts::parse_mounts(&fstab);
    let mounted = mounts::parse_mounts(&mounted);
    let unmounted = volumes.iter().filter_map(|v| v.gfs2.as_ref()).any(|g| {
        fstab.iter().any(|e| e.dir == g.mountpoint)
            && !mounted
                .iter()
                .any(|m| m.dir == g.mountpoint && m.fstype == "gfs2")
    });
    if unmounted {
        // Mounts what fstab lists, and takes gfs2's subsys lock (rc then
        // unmounts at shutdown, in order).
        ctx.change(&argv::init("gfs2", "start"))?;
    }
    Ok(())
}

/// The victim's side: release the device, go Secondary, reconnect
/// discarding its own changes.
fn discard_local(ctx: &mut Ctx, dev: &DrbdDevice) -> Result<()> {
    let res = ctx.cfg.drbd.resource.clone();
    let volumes = ctx.cfg.clvm.volumes.clone();
    let mounted = ctx.read("/proc/mounts").unwrap_or_default();
    let mounted = mounts::parse_mounts(&mounted);
    for vol in &volumes {
        let Some(g) = &vol.gfs2 else { continue };
        if mounted
            .iter()
            .any(|m| m.dir == g.mountpoint && m.fstype == "gfs2")
        {
            ctx.change(&umount(&g.mountpoint))?;
        }
    }
    let lvs = ctx.query(&lvm::lvs(&ctx.cfg.clvm.vg));
    if lvs.success() {
        let rows = lvm::parse_lvs(&lvs.stdout);
        for vol in &volumes {
            if rows.iter().any(|r| r.lv == vol.name && r.active()) {
                ctx.change(&lvm::lvchange_deactivate_local(&lvm::volume_path(
                    ctx.cfg, vol,
                )))?;
            }
        }
    }
    if dev.local_role() == "Primary" {
        ctx.change(&argv::drbdadm("secondary", &res))?;
    }
    if dev.cs != "StandAlone" {
        ctx.change(&argv::drbdadm("disconnect", &res))?;
    }
    ctx.change(&argv::discard_my_data_connect(&res))?;
    Ok(())
}
