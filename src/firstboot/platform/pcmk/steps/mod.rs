//! The pacemaker-family steps, one file per subsystem, and what several of
//! them share: the `[pacemaker]` table, DRBD's state in either generation,
//! pacemaker's view (crm_mon), what is on the backing LV.

pub mod check;
pub mod cluster;
pub mod drbd;
pub mod inspect;
pub mod join;
pub mod storage;

use super::argv;
use super::parse::crm_mon::{self, CrmMon};
use super::parse::drbdmeta::{self, Uuids};
use super::parse::wipefs::{self, Signature};
use super::parse::{drbd84, drbd9, DrbdState};
use crate::firstboot::config::{
    DrbdGeneration, FirstbootConfig, NodeRole, PacemakerConfig, VolumeConfig,
};
use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::{Error, Result};
use crate::firstboot::host::Argv;
use crate::firstboot::platform::common::lvm;
use std::path::PathBuf;

/// Never used: `FirstbootConfig::check` refuses a pacemaker-family config
/// without `[pacemaker]` before any step or plan runs.
static NO_PACEMAKER: PacemakerConfig = PacemakerConfig {
    cib_file: PathBuf::new(),
    drbd_clone: String::new(),
    locking_clone: String::new(),
    start_after_storage: Vec::new(),
    op_timeout_secs: 0,
    resources_secs: 0,
    drbd_generation: DrbdGeneration::V84,
};

/// The config's `[pacemaker]` table.
pub fn pcmk(cfg: &FirstbootConfig) -> &PacemakerConfig {
    cfg.pacemaker.as_ref().unwrap_or(&NO_PACEMAKER)
}

/// The volumes that carry a GFS2 file system.
fn gfs2_volumes(cfg: &FirstbootConfig) -> impl Iterator<Item = &VolumeConfig> {
    cfg.clvm.volumes.iter().filter(|v| v.gfs2.is_some())
}

/// Both names a node goes by (pacemaker and corosync may use either).
fn names(n: &crate::firstboot::config::NodeRef) -> [&str; 2] {
    [n.name.as_str(), n.short.as_str()]
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

/// DRBD's state here, None when the resource is down.
pub fn drbd_state(ctx: &mut Ctx) -> Result<Option<DrbdState>> {
    let res = ctx.cfg.drbd.resource.clone();
    match pcmk(ctx.cfg).drbd_generation {
        DrbdGeneration::V84 => {
            let text = match ctx.host.read_file("/proc/drbd") {
                Ok(t) => t,
                // The module is not loaded: nothing is up.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(Error::io("reading /proc/drbd", e)),
            };
            Ok(drbd84::parse(&text, ctx.cfg.drbd.minor().unwrap_or(0))?)
        }
        DrbdGeneration::V9 => {
            let a = argv::drbdsetup_status_json(&res);
            let r = ctx.query(&a);
            if r.success() {
                return Ok(drbd9::parse(&r.stdout, &res)?);
            }
            if format!("{}{}", r.stdout, r.stderr).contains("No such resource") {
                return Ok(None);
            }
            Err(Error::Command {
                command: a.to_string(),
                code: r.code,
                detail: r.last_line(),
            })
        }
    }
}

/// [`drbd_state`], which must be up.
fn drbd_now(ctx: &mut Ctx) -> Result<DrbdState> {
    drbd_state(ctx)?
        .ok_or_else(|| Error::Unexpected(format!("DRBD {} is not up", ctx.cfg.drbd.resource)))
}

/// Where DRBD's state is read, for `plan`.
fn drbd_state_source(cfg: &FirstbootConfig) -> String {
    match pcmk(cfg).drbd_generation {
        DrbdGeneration::V84 => "/proc/drbd".into(),
        DrbdGeneration::V9 => argv::drbdsetup_status_json(&cfg.drbd.resource).to_string(),
    }
}

/// pacemaker's view; None while it does not answer (starting, stopped).
/// A costly query (seconds of CPU on a slow node): the waits polling it
/// space their polls `retry_max_ms` apart, and only the initial primary
/// polls it ([`watches_pacemaker`]).
fn crm_mon(ctx: &mut Ctx) -> Result<std::result::Result<CrmMon, String>> {
    let r = ctx.costly_query(&argv::crm_mon());
    if !r.success() {
        let why = crm_mon::failure(&r.stdout).unwrap_or_else(|| r.last_line());
        return Ok(Err(format!("crm_mon exit {}: {why}", r.code)));
    }
    if let Some(why) = crm_mon::not_ready(&r.stdout) {
        return Ok(Err(why));
    }
    Ok(Ok(crm_mon::parse(&r.stdout)?))
}

/// Whether this node watches pacemaker (crm_mon) for both nodes while the
/// cluster comes up: the initial primary does; its peer checks only what
/// it can see here (quorum, DRBD's role, its own mounts), and waits at the
/// barrier after the step until the initial primary has seen everything
/// on both (every such step is followed by a barrier, and re-checked on
/// every run, so a kill of either helper at any point is resumed the same
/// way).
///
/// A replacement node watches it too: it is the only helper running.
fn watches_pacemaker(cfg: &FirstbootConfig) -> bool {
    cfg.drbd.initial_primary || cfg.role == NodeRole::Replacement
}

fn get_gi(ctx: &mut Ctx) -> Result<Uuids> {
    let out = query_ok(ctx, &argv::drbdadm("get-gi", &ctx.cfg.drbd.resource))?;
    Ok(drbdmeta::parse_gi(&out)?)
}

/// The signatures on a device other than DRBD's own metadata.
fn foreign_signatures(ctx: &mut Ctx, dev: &str) -> Result<Vec<Signature>> {
    let out = query_ok(ctx, &argv::wipefs(dev))?;
    Ok(wipefs::parse(&out)?
        .into_iter()
        .filter(|s| !s.is_drbd_metadata())
        .collect())
}

/// What is on the backing LV: (DRBD metadata, other signatures).
fn backing_contents(ctx: &mut Ctx) -> Result<(Option<Uuids>, Vec<Signature>)> {
    let res = ctx.cfg.drbd.resource.clone();
    let backing = lvm::backing_path(ctx.cfg);
    let attached = drbd_state(ctx)?.is_some_and(|s| s.disk != "Diskless");
    let md = if attached {
        Some(get_gi(ctx)?)
    } else {
        let dump = argv::drbdadm("dump-md", &res);
        let r = ctx.query(&dump);
        if r.success() {
            Some(drbdmeta::parse_dump_md(&r.stdout)?)
        } else if drbdmeta::says_no_metadata(&format!("{}{}", r.stdout, r.stderr)) {
            None
        } else {
            return Err(Error::Command {
                command: dump.to_string(),
                code: r.code,
                detail: r.last_line(),
            });
        }
    };
    let sigs = foreign_signatures(ctx, &backing)?;
    Ok((md, sigs))
}

fn lv_exists(ctx: &mut Ctx, vg: &str, lv: &str) -> Result<bool> {
    let out = query_ok(ctx, &lvm::lvs(vg))?;
    Ok(lvm::parse_lvs(&out)
        .iter()
        .any(|r| r.lv == lv && r.vg == vg))
}

fn describe_all(sigs: &[Signature]) -> String {
    sigs.iter()
        .map(Signature::describe)
        .collect::<Vec<_>>()
        .join(", ")
}
