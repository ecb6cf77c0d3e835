//! `inspect`: read-only, before anything is written on either node.

use super::{backing_contents, describe_all, lv_exists};
use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::{Error, Result};
use crate::firstboot::platform::common::lvm;
use crate::firstboot::platform::pcmk::argv;
use crate::firstboot::step::{PlanLine, Role, Runs, Step};

pub static INSPECT: Step = Step {
    name: "inspect",
    title: "look for existing data before anything is written",
    role: Role::Both,
    runs: Runs::Once,
    run,
    plan,
};

/// Refuses when the backing LV holds DRBD metadata with a history or any
/// other signature.
fn run(ctx: &mut Ctx) -> Result<()> {
    let vg = ctx.cfg.drbd.backing_vg.clone();
    let lv = ctx.cfg.drbd.backing_lv.clone();
    let backing = lvm::backing_path(ctx.cfg);
    if !lv_exists(ctx, &vg, &lv)? {
        ctx.log.info(format!(
            "inspect: {backing} does not exist yet: nothing on it"
        ));
    } else {
        let (md, sigs) = backing_contents(ctx)?;
        if let Some(u) = md.as_ref().filter(|u| !u.is_brand_new()) {
            return Err(Error::Refused(format!(
                "DRBD metadata on {backing} has a data generation history ({}): it may hold data",
                u.line()
            )));
        }
        if !sigs.is_empty() {
            return Err(Error::Refused(format!(
                "{backing} carries {}: it may hold data",
                describe_all(&sigs)
            )));
        }
        ctx.log.info(match md {
            Some(_) => format!("inspect: {backing} has brand-new DRBD metadata and no data"),
            None => format!("inspect: {backing} has no DRBD metadata and no signature"),
        });
    }
    ctx.announce("inspect", "clean");
    Ok(())
}

fn plan(cfg: &FirstbootConfig) -> Vec<PlanLine> {
    let backing = lvm::backing_path(cfg);
    vec![
        PlanLine::check(
            &lvm::lvs(&cfg.drbd.backing_vg),
            "does the backing LV exist?",
        ),
        PlanLine::check(
            &argv::drbdadm("dump-md", &cfg.drbd.resource),
            "\"No valid meta data found\" = no metadata; `drbdadm get-gi` when attached",
        ),
        PlanLine::check(&argv::wipefs(&backing), "any signature but DRBD's own"),
        PlanLine::note(
            "refuse if the metadata has a data generation history or a signature is found",
        ),
    ]
}
