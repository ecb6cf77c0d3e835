//! `inspect`: read-only, before anything is written on either node.

use super::{backing_contents, lv_exists};
use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::{Error, Result};
use crate::firstboot::platform::common::lvm;
use crate::firstboot::platform::el5::argv;
use crate::firstboot::step::{PlanLine, Role, Runs, Step};

pub static INSPECT: Step = Step {
    name: "inspect",
    title: "look for existing data before anything is written",
    role: Role::Both,
    runs: Runs::Once,
    run,
    plan,
};

/// Refuses when the backing LV holds metadata with history or a signature.
fn run(ctx: &mut Ctx) -> Result<()> {
    let vg = ctx.cfg.drbd.backing_vg.clone();
    let lv = ctx.cfg.drbd.backing_lv.clone();
    let backing = lvm::backing_path(ctx.cfg);
    if !lv_exists(ctx, &vg, &lv)? {
        ctx.log.info(format!(
            "inspect: {backing} does not exist yet: nothing on it"
        ));
    } else {
        match backing_contents(ctx)? {
            (Some(gi), _) if !gi.is_brand_new() => {
                return Err(Error::Refused(format!(
                "DRBD metadata on {backing} has a data generation history ({}): it may hold data",
                gi.line()
            )))
            }
            (_, Some(sig)) => {
                return Err(Error::Refused(format!(
                    "{backing} carries {sig}: it may hold data"
                )))
            }
            (Some(_), None) => ctx.log.info(format!(
                "inspect: {backing} has brand-new DRBD metadata and no data"
            )),
            (None, None) => ctx.log.info(format!(
                "inspect: {backing} has no DRBD metadata and no known signature"
            )),
        }
    }
    ctx.announce("inspect", "clean");
    Ok(())
}

fn plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    vec![
        PlanLine::check(
            &lvm::lvs(&cfg.drbd.backing_vg),
            "does the backing LV exist?",
        ),
        PlanLine::check(
            &argv::drbdadm("dump-md", &cfg.drbd.resource),
            "exit 255 = no metadata; `drbdadm get-gi` when attached",
        ),
        PlanLine::note(format!(
            "check: no LVM2 label, GFS/GFS2, ext2/3 or swap signature at the start of {}",
            lvm::backing_path(cfg)
        )),
        PlanLine::note("refuse if metadata has a data generation history or a signature is found"),
    ]
}
