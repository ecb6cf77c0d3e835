//! The el5 steps, one file per subsystem, and what several of them share:
//! reading /proc/drbd and the DRBD generation identifiers, what is on the
//! backing LV, the GFS2 volumes.

pub mod clvm;
pub mod cman;
pub mod drbd;
pub mod finish;
pub mod gfs2;
pub mod inspect;
pub mod join;
pub mod xend;

use crate::firstboot::config::{FirstbootConfig, VolumeConfig};
use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::{Error, Result};
use crate::firstboot::host::Argv;
use crate::firstboot::platform::common::lvm;
use crate::firstboot::platform::common::probe::{detect_signature, PROBE_LEN};
use crate::firstboot::platform::el5::argv;
use crate::firstboot::platform::el5::parse::drbdmeta::{self, Gi};
use crate::firstboot::platform::el5::parse::proc_drbd::{self, DrbdDevice};

/// The volumes that carry a GFS2 file system.
fn gfs2_volumes(cfg: &FirstbootConfig) -> impl Iterator<Item = &VolumeConfig> {
    cfg.clvm.volumes.iter().filter(|v| v.gfs2.is_some())
}

/// Runs a read-only command that must succeed; its stdout.
fn query_ok(ctx: &mut Ctx, argv: &Argv) -> Result<String> {
    let r = ctx.query(argv);
    if !r.success() {
        return Err(Error::Command {
            command: argv.to_string(),
            code: r.code,
            detail: r.last_line(),
        });
    }
    Ok(r.stdout)
}

fn get_gi(ctx: &mut Ctx) -> Result<Gi> {
    let out = query_ok(ctx, &argv::drbdadm("get-gi", &ctx.cfg.drbd.resource))?;
    Ok(drbdmeta::parse_gi(&out)?)
}

fn probe(ctx: &mut Ctx, dev: &str) -> Result<Option<&'static str>> {
    let head = ctx
        .host
        .read_head(dev, PROBE_LEN)
        .map_err(|e| Error::io(format!("reading the start of {dev}"), e))?;
    Ok(detect_signature(&head))
}

/// What is on the backing LV: (metadata, signature).
fn backing_contents(ctx: &mut Ctx) -> Result<(Option<Gi>, Option<&'static str>)> {
    let res = ctx.cfg.drbd.resource.clone();
    let backing = lvm::backing_path(ctx.cfg);
    let attached = drbd_device(ctx)?.is_some_and(|d| d.is_configured());
    let gi = if attached {
        Some(get_gi(ctx)?)
    } else {
        let dump_md = argv::drbdadm("dump-md", &res);
        let r = ctx.query(&dump_md);
        match r.code {
            0 => Some(drbdmeta::parse_dump_md(&r.stdout)?),
            255 => None,
            code => {
                return Err(Error::Command {
                    command: dump_md.to_string(),
                    code,
                    detail: r.last_line(),
                })
            }
        }
    };
    let sig = probe(ctx, &backing)?;
    Ok((gi, sig))
}

fn lv_exists(ctx: &mut Ctx, vg: &str, lv: &str) -> Result<bool> {
    let out = query_ok(ctx, &lvm::lvs(vg))?;
    Ok(lvm::parse_lvs(&out)
        .iter()
        .any(|r| r.lv == lv && r.vg == vg))
}

/// This node's minor in /proc/drbd: None if the module is not loaded or
/// the minor is not listed.
pub fn drbd_device(ctx: &mut Ctx) -> Result<Option<DrbdDevice>> {
    let text = match ctx.host.read_file("/proc/drbd") {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("reading /proc/drbd", e)),
    };
    let p = proc_drbd::parse_proc_drbd(&text)?;
    Ok(p.device(ctx.cfg.drbd.minor().unwrap_or(0)).cloned())
}

/// [`drbd_device`], which must be there.
fn drbd_now(ctx: &mut Ctx) -> Result<DrbdDevice> {
    drbd_device(ctx)?.ok_or_else(|| {
        Error::Unexpected(format!(
            "{} is not configured (no minor {} in /proc/drbd)",
            ctx.cfg.drbd.device,
            ctx.cfg.drbd.minor().unwrap_or(0)
        ))
    })
}
