//! Clustered LVM on the DRBD device: clvmd, the PV, the clustered VG and
//! its LVs (on the initial primary), activation on both.

use super::query_ok;
use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::{Ctx, Found};
use crate::firstboot::error::{Error, Result};
use crate::firstboot::platform::common::lvm;
use crate::firstboot::platform::el5::argv;
use crate::firstboot::step::{PlanLine, Role, Runs, Step};

pub static CLVMD: Step = Step {
    name: "clvmd",
    title: "start clvmd",
    role: Role::Both,
    runs: Runs::EveryRun,
    run: clvmd,
    plan: clvmd_plan,
};

pub static CLUSTERED_VG: Step = Step {
    name: "clustered-vg",
    title: "create the PV, the clustered VG and its LVs",
    role: Role::InitialPrimary,
    runs: Runs::Once,
    run: clustered_vg,
    plan: clustered_vg_plan,
};

pub static LV_ACTIVATE: Step = Step {
    name: "lv-activate",
    title: "rescan and activate the clustered LVs",
    role: Role::Both,
    runs: Runs::EveryRun,
    run: lv_activate,
    plan: lv_activate_plan,
};

pub(crate) fn clvmd(ctx: &mut Ctx) -> Result<()> {
    if ctx.query(&argv::init("clvmd", "status")).success() {
        ctx.log.info("clvmd is already running");
    } else {
        ctx.change(&argv::init("clvmd", "start"))?;
    }
    Ok(())
}

fn clvmd_plan(_: &FirstbootConfig) -> Vec<PlanLine> {
    vec![
        PlanLine::check(&argv::init("clvmd", "status"), "skip the start if running"),
        PlanLine::run(&argv::init("clvmd", "start")),
    ]
}

fn clustered_vg(ctx: &mut Ctx) -> Result<()> {
    let dev = ctx.cfg.drbd.device.clone();
    let vg = ctx.cfg.clvm.vg.clone();

    let pvs = lvm::parse_pvs(&query_ok(ctx, &lvm::pvs())?);
    let found = match pvs.iter().find(|p| p.pv == dev) {
        Some(p) => Found::Data(format!(
            "{dev} already carries an LVM2 PV signature{}",
            p.vg.as_ref()
                .map(|v| format!(" (VG {v})"))
                .unwrap_or_default()
        )),
        None => Found::Nothing,
    };
    ctx.destructive("pvcreate", &lvm::pvcreate(&dev), found)?;

    let vgs = lvm::parse_vgs(&query_ok(ctx, &lvm::vgs())?);
    let found = match vgs.iter().find(|v| v.vg == vg) {
        Some(v) => Found::Data(format!(
            "volume group {vg} already exists (attr {})",
            v.attr
        )),
        None => Found::Nothing,
    };
    ctx.destructive("vgcreate", &argv::vgcreate_clustered(&vg, &dev), found)?;
    if !ctx.dry_run {
        let vgs = lvm::parse_vgs(&query_ok(ctx, &lvm::vgs())?);
        match vgs.iter().find(|v| v.vg == vg) {
            Some(v) if v.clustered() => {}
            Some(v) => {
                return Err(Error::Unexpected(format!(
                    "volume group {vg} is not clustered (attr {})",
                    v.attr
                )))
            }
            None => return Err(Error::Unexpected(format!("volume group {vg} is missing"))),
        }
    }

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
            &lvm::lvcreate(&vol.size, &vol.name, &vg),
            found,
        )?;
    }
    Ok(())
}

fn clustered_vg_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let (dev, vg) = (&cfg.drbd.device, &cfg.clvm.vg);
    let mut v = vec![
        PlanLine::check(&lvm::pvs(), &format!("only if {dev} is not a PV")),
        PlanLine::run(&lvm::pvcreate(dev)),
        PlanLine::check(&lvm::vgs(), &format!("only if {vg} does not exist")),
        PlanLine::run(&argv::vgcreate_clustered(vg, dev)),
        PlanLine::check(&lvm::lvs(vg), "only the missing LVs"),
    ];
    for vol in &cfg.clvm.volumes {
        v.push(PlanLine::run(&lvm::lvcreate(&vol.size, &vol.name, vg)));
    }
    v
}

pub(crate) fn lv_activate(ctx: &mut Ctx) -> Result<()> {
    let vg = ctx.cfg.clvm.vg.clone();
    ctx.change(&lvm::vgscan())?;
    let volumes = ctx.cfg.clvm.volumes.clone();
    for vol in &volumes {
        ctx.change(&lvm::lvchange_activate(&lvm::volume_path(ctx.cfg, vol)))?;
    }
    if ctx.dry_run {
        return Ok(());
    }
    let lvs = lvm::parse_lvs(&query_ok(ctx, &lvm::lvs(&vg))?);
    for vol in &volumes {
        if !lvs.iter().any(|l| l.lv == vol.name && l.active()) {
            return Err(Error::Unexpected(format!(
                "{} is not active after lvchange",
                lvm::volume_path(ctx.cfg, vol)
            )));
        }
    }
    Ok(())
}

fn lv_activate_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let mut v = vec![PlanLine::run(&lvm::vgscan())];
    for vol in &cfg.clvm.volumes {
        v.push(PlanLine::run(&lvm::lvchange_activate(&lvm::volume_path(
            cfg, vol,
        ))));
    }
    v.push(PlanLine::check(&lvm::lvs(&cfg.clvm.vg), "all active"));
    v
}
