//! Shared LVM on the DRBD device (lvmlockd), GFS2, and the storage clones
//! handed to pacemaker; then every resource Started on both nodes.

use super::drbd::clear_target_role;
use super::{
    crm_mon, describe_all, foreign_signatures, gfs2_volumes, names, pcmk, query_ok,
    watches_pacemaker,
};
use crate::firstboot::config::{FirstbootConfig, VolumeConfig};
use crate::firstboot::ctx::{Ctx, Found, Poll};
use crate::firstboot::error::{Error, Result};
use crate::firstboot::platform::common::{lvm, mounts};
use crate::firstboot::platform::pcmk::argv;
use crate::firstboot::step::{PlanLine, Role, Runs, Step};

pub static SHARED_VG: Step = Step {
    name: "shared-vg",
    title: "create the PV, the shared VG (lvmlockd) and its LVs",
    role: Role::InitialPrimary,
    runs: Runs::Once,
    run: shared_vg,
    plan: shared_vg_plan,
};

/// A service step: a reboot drops the lockspace (lvmlockd runs again
/// under pacemaker, but nobody started the VG's lockspace yet), and the
/// initial primary's mkfs needs it.
pub static LOCK_START: Step = Step {
    name: "lock-start",
    title: "start the shared VG's lockspace",
    role: Role::Both,
    runs: Runs::EveryRun,
    run: lock_start,
    plan: lock_start_plan,
};

pub static GFS2_MKFS: Step = Step {
    name: "gfs2-mkfs",
    title: "make the GFS2 file systems",
    role: Role::InitialPrimary,
    runs: Runs::Once,
    run: gfs2_mkfs,
    plan: gfs2_mkfs_plan,
};

pub static STORAGE_START: Step = Step {
    name: "storage-start",
    title: "hand the VG and file system clones to pacemaker (clear their target-role)",
    role: Role::InitialPrimary,
    runs: Runs::Once,
    run: storage_start,
    plan: storage_start_plan,
};

pub static ALL_STARTED: Step = Step {
    name: "all-started",
    title: "wait until every resource runs on both nodes and GFS2 is mounted",
    role: Role::Both,
    runs: Runs::EveryRun,
    run: all_started,
    plan: all_started_plan,
};

/// vg_attr[5] == 's' and lock type dlm: a shared VG under lvmlockd.
fn shared_vg_row(text: &str, vg: &str) -> Option<(String, String)> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|t| t.first() == Some(&vg))
        .map(|t| {
            (
                t.get(1).unwrap_or(&"").to_string(),
                t.get(2).unwrap_or(&"").to_string(),
            )
        })
}

fn shared_vg(ctx: &mut Ctx) -> Result<()> {
    let dev = ctx.cfg.drbd.device.clone();
    let vg = ctx.cfg.clvm.vg.clone();

    let pvs = lvm::parse_pvs(&query_ok(ctx, &lvm::pvs())?);
    let mut found = match pvs.iter().find(|p| p.pv == dev) {
        Some(p) => Found::Data(format!(
            "{dev} already carries an LVM2 PV signature{}",
            p.vg.as_ref()
                .map(|v| format!(" (VG {v})"))
                .unwrap_or_default()
        )),
        None => Found::Nothing,
    };
    if found == Found::Nothing && !ctx.dry_run {
        let sigs = foreign_signatures(ctx, &dev)?;
        if !sigs.is_empty() {
            found = Found::Data(format!("{dev} carries {}", describe_all(&sigs)));
        }
    }
    ctx.destructive("pvcreate", &lvm::pvcreate(&dev), found)?;

    let vgs = query_ok(ctx, &argv::vgs_locked())?;
    let found = match shared_vg_row(&vgs, &vg) {
        Some((attr, lock)) => Found::Data(format!(
            "volume group {vg} already exists (attr {attr}, lock type {lock:?})"
        )),
        None => Found::Nothing,
    };
    ctx.destructive("vgcreate", &argv::vgcreate_shared(&vg, &dev), found)?;
    if !ctx.dry_run {
        match shared_vg_row(&query_ok(ctx, &argv::vgs_locked())?, &vg) {
            Some((attr, lock)) if attr.chars().nth(5) == Some('s') && lock == "dlm" => {}
            Some((attr, lock)) => {
                return Err(Error::Unexpected(format!(
                    "volume group {vg} is not shared through lvmlockd/dlm (attr {attr}, lock type {lock:?})"
                )))
            }
            None => return Err(Error::Unexpected(format!("volume group {vg} is missing"))),
        }
    }
    // lvcreate in a shared VG needs its lockspace.
    ctx.change(&argv::lock_start(&vg))?;

    let volumes = ctx.cfg.clvm.volumes.clone();
    let lvs = if ctx.dry_run {
        Vec::new()
    } else {
        lvm::parse_lvs(&query_ok(ctx, &lvm::lvs(&vg))?)
    };
    for vol in &volumes {
        let found = if lvs.iter().any(|l| l.lv == vol.name) {
            Found::Data(format!("logical volume {vg}/{} already exists", vol.name))
        } else {
            Found::Nothing
        };
        ctx.destructive(
            &format!("lvcreate:{}", vol.name),
            &argv::lvcreate_inactive(&vol.size, &vol.name, &vg),
            found,
        )?;
    }
    Ok(())
}

fn shared_vg_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let (dev, vg) = (&cfg.drbd.device, &cfg.clvm.vg);
    let mut v = vec![
        PlanLine::check(&lvm::pvs(), &format!("only if {dev} is not a PV")),
        PlanLine::check(&argv::wipefs(dev), "and carries no signature"),
        PlanLine::run(&lvm::pvcreate(dev)),
        PlanLine::check(&argv::vgs_locked(), &format!("only if {vg} does not exist")),
        PlanLine::run(&argv::vgcreate_shared(vg, dev)),
        PlanLine::run(&argv::lock_start(vg)),
        PlanLine::check(&lvm::lvs(vg), "only the missing LVs"),
    ];
    for vol in &cfg.clvm.volumes {
        v.push(PlanLine::run(&argv::lvcreate_inactive(
            &vol.size, &vol.name, vg,
        )));
    }
    v
}

fn lock_start(ctx: &mut Ctx) -> Result<()> {
    ctx.change(&argv::lock_start(&ctx.cfg.clvm.vg))?;
    Ok(())
}

fn lock_start_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    vec![PlanLine::run(&argv::lock_start(&cfg.clvm.vg))]
}

fn gfs2_mkfs(ctx: &mut Ctx) -> Result<()> {
    let vg = ctx.cfg.clvm.vg.clone();
    let vols: Vec<VolumeConfig> = gfs2_volumes(ctx.cfg).cloned().collect();
    for vol in &vols {
        let Some(g) = &vol.gfs2 else { continue };
        let path = lvm::volume_path(ctx.cfg, vol);
        ctx.change(&argv::lvchange("sy", &vg, &vol.name))?;
        let found = if ctx.dry_run {
            // The LV does not exist yet in a dry run.
            Found::Nothing
        } else {
            let sigs = foreign_signatures(ctx, &path)?;
            if sigs.is_empty() {
                Found::Nothing
            } else {
                Found::Data(format!("{path} already holds {}", describe_all(&sigs)))
            }
        };
        ctx.destructive(
            &format!("mkfs:{}", vol.name),
            &argv::mkfs_gfs2(g.journals, &g.lock_table, &path),
            found,
        )?;
        // Pacemaker's LVM-activate activates it from now on.
        ctx.change(&argv::lvchange("n", &vg, &vol.name))?;
    }
    Ok(())
}

fn gfs2_mkfs_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let vg = &cfg.clvm.vg;
    let mut v = Vec::new();
    for vol in gfs2_volumes(cfg) {
        let Some(g) = &vol.gfs2 else { continue };
        let path = lvm::volume_path(cfg, vol);
        v.push(PlanLine::run(&argv::lvchange("sy", vg, &vol.name)));
        v.push(PlanLine::check(
            &argv::wipefs(&path),
            "only if it holds no signature",
        ));
        v.push(PlanLine::run(&argv::mkfs_gfs2(
            g.journals,
            &g.lock_table,
            &path,
        )));
        v.push(PlanLine::run(&argv::lvchange("n", vg, &vol.name)));
    }
    v
}

fn storage_start(ctx: &mut Ctx) -> Result<()> {
    let ids = pcmk(ctx.cfg).start_after_storage.clone();
    for id in &ids {
        clear_target_role(ctx, id)?;
    }
    Ok(())
}

fn storage_start_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let ids = &pcmk(cfg).start_after_storage;
    let mut v = vec![PlanLine::check(
        &argv::cib_query_resources(),
        "only those that still have a target-role",
    )];
    for id in ids {
        v.push(PlanLine::run(&argv::clear_target_role(id)));
    }
    v
}

fn all_started(ctx: &mut Ctx) -> Result<()> {
    let me = ctx.cfg.node.clone();
    let peer = ctx.cfg.peer.clone();
    let mountpoints: Vec<String> = gfs2_volumes(ctx.cfg)
        .filter_map(|v| v.gfs2.as_ref().map(|g| g.mountpoint.clone()))
        .collect();
    let secs = pcmk(ctx.cfg).resources_secs;
    // The initial primary checks both nodes in crm_mon; its peer, its own
    // mounts, and meets it at the all-started barrier.
    let watch = watches_pacemaker(ctx.cfg);
    let what = if watch {
        "every resource to run on both nodes"
    } else {
        "GFS2 to be mounted here (the initial primary checks every resource on both nodes)"
    };
    ctx.wait(what, secs, |ctx| {
        let mut missing = Vec::new();
        if watch {
            let mon = match crm_mon(ctx)? {
                Ok(m) => m,
                Err(why) => return Ok(Poll::Pending(why)),
            };
            missing = mon.not_running(&[&names(&me), &names(&peer)]);
        }
        let mounted = ctx
            .read("/proc/mounts")
            .map_err(|e| Error::io("reading /proc/mounts", e))?;
        let mounted = mounts::parse_mounts(&mounted);
        for mp in &mountpoints {
            if !mounted.iter().any(|m| &m.dir == mp && m.fstype == "gfs2") {
                missing.push(format!("GFS2 not mounted on {mp} here"));
            }
        }
        if missing.is_empty() {
            Ok(Poll::Ready(()))
        } else {
            Ok(Poll::Pending(missing.join("; ")))
        }
    })
}

fn all_started_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let mps: Vec<String> = gfs2_volumes(cfg)
        .filter_map(|v| v.gfs2.as_ref().map(|g| g.mountpoint.clone()))
        .collect();
    if !watches_pacemaker(cfg) {
        return vec![PlanLine::note(format!(
            "wait up to {} s: /proc/mounts has GFS2 on {} (the initial primary checks in `{}` every resource on both nodes before the next barrier)",
            pcmk(cfg).resources_secs,
            mps.join(", "),
            argv::crm_mon()
        ))];
    }
    vec![PlanLine::note(format!(
        "wait up to {} s: `{}` shows every resource Started (Promoted) on both nodes, none failed; /proc/mounts has GFS2 on {}",
        pcmk(cfg).resources_secs,
        argv::crm_mon(),
        mps.join(", ")
    ))]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/pcmk/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn lvm_with_lvmlockd_as_printed() {
        assert_eq!(
            shared_vg_row(&fixture("vgs-shared.txt"), "vgc"),
            Some(("wz--ns".to_string(), "dlm".to_string()))
        );
        assert_eq!(shared_vg_row(&fixture("vgs-shared.txt"), "other"), None);
        let lvs = lvm::parse_lvs(&fixture("lvs-shared-active.txt"));
        assert_eq!(lvs[0].lv, "lv1");
        assert!(lvs[0].active());
        let pvs = lvm::parse_pvs(&fixture("pvs-drbd.txt"));
        assert_eq!(pvs[0].vg.as_deref(), Some("vgc"));
        let m = mounts::parse_mounts(&fixture("proc-mounts-gfs2.txt"));
        assert!(m.iter().any(|m| m.dir == "/mnt/gfs" && m.fstype == "gfs2"));
    }
}
