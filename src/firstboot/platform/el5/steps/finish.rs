//! The end of the first boot: clean up and mark the node done. The cluster
//! services stay off in the runlevels (the helper starts them at every
//! boot, after meeting the peer), and the helper stays on.

use super::gfs2::check_file;
use super::gfs2_volumes;
use crate::firstboot::config::{FirstbootConfig, VolumeConfig};
use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::Result;
use crate::firstboot::platform::common::rm_f;
use crate::firstboot::step::{PlanLine, Role, Runs, Step};

pub static FINISH: Step = Step {
    name: "finish",
    title: "clean up, mark done",
    role: Role::Both,
    runs: Runs::Once,
    run: finish,
    plan: finish_plan,
};

fn finish(ctx: &mut Ctx) -> Result<()> {
    let vols: Vec<VolumeConfig> = gfs2_volumes(ctx.cfg).cloned().collect();
    for vol in &vols {
        let Some(g) = &vol.gfs2 else { continue };
        ctx.change(&rm_f(&check_file(&g.mountpoint, &ctx.cfg.node.short)))?;
    }
    if !ctx.dry_run {
        ctx.state.done = true;
        ctx.save()?;
    }
    ctx.log.info(
        "first-boot setup is done on this node; from now on this helper brings the cluster \
         stack up at every boot, once it has met the peer",
    );
    Ok(())
}

fn finish_plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let mut v: Vec<PlanLine> = gfs2_volumes(cfg)
        .filter_map(|vol| vol.gfs2.as_ref())
        .map(|g| PlanLine::run(&rm_f(&check_file(&g.mountpoint, &cfg.node.short))))
        .collect();
    v.push(PlanLine::note("mark done in the state file"));
    v
}
