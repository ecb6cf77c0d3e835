//! The end: clean up, enable drbd at boot, mark the node done; then turn
//! the helper off at boot.

use super::gfs2::check_file;
use super::gfs2_volumes;
use crate::firstboot::config::{FirstbootConfig, VolumeConfig};
use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::Result;
use crate::firstboot::platform::common::rm_f;
use crate::firstboot::platform::el5::argv::{self, FIRSTBOOT_SERVICE};
use crate::firstboot::step::{PlanLine, Role, Runs, Step};

pub static FINISH: Step = Step {
    name: "finish",
    title: "clean up, enable drbd at boot, mark done",
    role: Role::Both,
    runs: Runs::Once,
    run: finish,
    plan: finish_plan,
};

pub static DISABLE: Step = Step {
    name: "disable",
    title: "disable this helper at boot",
    role: Role::Both,
    runs: Runs::EvenWhenDone,
    run: disable,
    plan: disable_plan,
};

fn finish(ctx: &mut Ctx) -> Result<()> {
    let vols: Vec<VolumeConfig> = gfs2_volumes(ctx.cfg).cloned().collect();
    for vol in &vols {
        let Some(g) = &vol.gfs2 else { continue };
        ctx.change(&rm_f(&check_file(&g.mountpoint, &ctx.cfg.node.short)))?;
    }
    ctx.change(&argv::chkconfig("drbd", true))?;
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
    v.push(PlanLine::run(&argv::chkconfig("drbd", true)));
    v.push(PlanLine::note("mark done in the state file"));
    v
}

fn disable(ctx: &mut Ctx) -> Result<()> {
    ctx.change(&argv::chkconfig(FIRSTBOOT_SERVICE, false))?;
    Ok(())
}

fn disable_plan(_: &FirstbootConfig) -> Vec<PlanLine> {
    vec![PlanLine::run(&argv::chkconfig(FIRSTBOOT_SERVICE, false))]
}
