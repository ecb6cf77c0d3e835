//! The proof that GFS2 is shared: each node writes a file on each GFS2
//! mount, the other reads it back and compares its sha256; then the end:
//! clean up, enable corosync and pacemaker at boot, mark done, and turn the
//! helper off at boot.

use super::gfs2_volumes;
use crate::firstboot::barrier;
use crate::firstboot::config::{FirstbootConfig, VolumeConfig};
use crate::firstboot::ctx::{Ctx, Poll};
use crate::firstboot::error::{Error, Result};
use crate::firstboot::platform::common::rm_f;
use crate::firstboot::platform::pcmk::argv::{self, COROSYNC, FIRSTBOOT_UNIT, PACEMAKER};
use crate::firstboot::step::{PlanLine, Role, Runs, Step};
use sha2::{Digest, Sha256};

pub static FS_WRITE: Step = Step {
    name: "fs-write",
    title: "write a check file on each GFS2 mount",
    role: Role::Both,
    runs: Runs::Once,
    run: fs_write,
    plan: fs_write_plan,
};

pub static FS_READ: Step = Step {
    name: "fs-read",
    title: "read the peer's check file on each GFS2 mount and compare its sha256",
    role: Role::Both,
    runs: Runs::Once,
    run: fs_read,
    plan: fs_read_plan,
};

/// The helper is disabled here, before `done` is recorded (no step after
/// the one that marks done: a run stopped in between runs all of it again,
/// and each command in it is harmless twice).
pub static FINISH: Step = Step {
    name: "finish",
    title: "clean up, enable corosync and pacemaker at boot, disable this helper, mark done",
    role: Role::Both,
    runs: Runs::Once,
    run: finish,
    plan: finish_plan,
};

/// Lines of a check file (64 hex characters each: 16 KiB).
const CHECK_LINES: usize = 256;

/// The file each node writes on a GFS2 mount for the other to read.
pub fn check_file(mountpoint: &str, short: &str) -> String {
    format!(
        "{}/.clusterkick-firstboot.{short}",
        mountpoint.trim_end_matches('/')
    )
}

/// What `node` writes on `mountpoint`: keyed, so nobody else can make it.
fn check_body(key: &[u8], node: &str, mountpoint: &str) -> String {
    let mut s = String::with_capacity(CHECK_LINES * 65);
    for i in 0..CHECK_LINES {
        s.push_str(&barrier::tag(
            key,
            &format!("fs-check:{node}:{mountpoint}:{i}"),
        ));
        s.push('\n');
    }
    s
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn fs_write(ctx: &mut Ctx) -> Result<()> {
    let vols: Vec<VolumeConfig> = gfs2_volumes(ctx.cfg).cloned().collect();
    for vol in &vols {
        let Some(g) = &vol.gfs2 else { continue };
        let path = check_file(&g.mountpoint, &ctx.cfg.node.short);
        let body = check_body(&ctx.key, &ctx.cfg.node.name, &g.mountpoint);
        ctx.write(&path, &body)?;
        ctx.log.info(format!(
            "{path}: {} bytes, sha256 {}",
            body.len(),
            sha256_hex(&body)
        ));
    }
    Ok(())
}

fn fs_write_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    gfs2_volumes(cfg)
        .filter_map(|v| v.gfs2.as_ref())
        .map(|g| {
            PlanLine::note(format!(
                "write {} ({} bytes, keyed)",
                check_file(&g.mountpoint, &cfg.node.short),
                CHECK_LINES * 65
            ))
        })
        .collect()
}

fn fs_read(ctx: &mut Ctx) -> Result<()> {
    let vols: Vec<VolumeConfig> = gfs2_volumes(ctx.cfg).cloned().collect();
    for vol in &vols {
        let Some(g) = &vol.gfs2 else { continue };
        let path = check_file(&g.mountpoint, &ctx.cfg.peer.short);
        let want = sha256_hex(&check_body(&ctx.key, &ctx.cfg.peer.name, &g.mountpoint));
        let what = format!(
            "{path}, written on {}, to read back here",
            ctx.cfg.peer.name
        );
        ctx.wait(&what, ctx.cfg.timeouts.barrier_secs, |ctx| {
            match ctx.read(&path) {
                Ok(got) if sha256_hex(&got) == want => Ok(Poll::Ready(())),
                Ok(got) => Ok(Poll::Pending(format!(
                    "sha256 {} is not {want}",
                    sha256_hex(&got)
                ))),
                Err(e) => Ok(Poll::Pending(e.to_string())),
            }
        })?;
        ctx.log.info(format!(
            "GFS2 {}: the file written on {} reads back here with sha256 {want}",
            g.mountpoint, ctx.cfg.peer.name
        ));
    }
    Ok(())
}

fn fs_read_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    gfs2_volumes(cfg)
        .filter_map(|v| v.gfs2.as_ref())
        .map(|g| {
            PlanLine::note(format!(
                "read {} (written by {}) and compare its sha256",
                check_file(&g.mountpoint, &cfg.peer.short),
                cfg.peer.name
            ))
        })
        .collect()
}

/// A replacement node's read-back of its own check file: the survivor
/// runs no helper to read it. Written through GFS2 with the survivor
/// mounted, under dlm's locks, it shows the shared file system writable
/// and readable here.
pub(super) fn fs_read_own(ctx: &mut Ctx) -> Result<()> {
    let vols: Vec<VolumeConfig> = gfs2_volumes(ctx.cfg).cloned().collect();
    for vol in &vols {
        let Some(g) = &vol.gfs2 else { continue };
        let path = check_file(&g.mountpoint, &ctx.cfg.node.short);
        let want = sha256_hex(&check_body(&ctx.key, &ctx.cfg.node.name, &g.mountpoint));
        let got = ctx
            .read(&path)
            .map_err(|e| Error::io(format!("reading {path} back"), e))?;
        if sha256_hex(&got) != want {
            return Err(Error::Unexpected(format!(
                "{path} reads back with sha256 {}, not the {want} written",
                sha256_hex(&got)
            )));
        }
        ctx.log.info(format!(
            "GFS2 {}: {path} reads back here with sha256 {want}",
            g.mountpoint
        ));
    }
    Ok(())
}

pub(super) fn fs_read_own_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    gfs2_volumes(cfg)
        .filter_map(|v| v.gfs2.as_ref())
        .map(|g| {
            PlanLine::note(format!(
                "read {} back and compare its sha256 (the survivor runs no helper to read it)",
                check_file(&g.mountpoint, &cfg.node.short)
            ))
        })
        .collect()
}

fn finish(ctx: &mut Ctx) -> Result<()> {
    let vols: Vec<VolumeConfig> = gfs2_volumes(ctx.cfg).cloned().collect();
    for vol in &vols {
        let Some(g) = &vol.gfs2 else { continue };
        ctx.change(&rm_f(&check_file(&g.mountpoint, &ctx.cfg.node.short)))?;
    }
    ctx.change(&argv::enable(&[COROSYNC, PACEMAKER]))?;
    ctx.change(&argv::disable(FIRSTBOOT_UNIT))?;
    if !ctx.dry_run {
        ctx.state.done = true;
        ctx.save()?;
    }
    ctx.log.info("first-boot setup is done on this node");
    Ok(())
}

fn finish_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let mut v: Vec<PlanLine> = gfs2_volumes(cfg)
        .filter_map(|vol| vol.gfs2.as_ref())
        .map(|g| PlanLine::run(&rm_f(&check_file(&g.mountpoint, &cfg.node.short))))
        .collect();
    v.push(PlanLine::run(&argv::enable(&[COROSYNC, PACEMAKER])));
    v.push(PlanLine::run(&argv::disable(FIRSTBOOT_UNIT)));
    v.push(PlanLine::note("mark done in the state file"));
    v
}
