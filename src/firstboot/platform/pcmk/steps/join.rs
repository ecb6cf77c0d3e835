//! A replacement node on the pacemaker family (work in progress: it
//! refuses, saying so).

use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::{Error, Result};
use crate::firstboot::step::{Item, PlanLine, Role, Runs, Step, MEET};

pub static NOT_YET: Step = Step {
    name: "replacement",
    title: "join the survivor",
    role: Role::Both,
    runs: Runs::Once,
    run: not_yet,
    plan: not_yet_plan,
};

fn not_yet(_ctx: &mut Ctx) -> Result<()> {
    Err(Error::SurvivorNotReady(
        "a replacement node is not automated on this platform yet".into(),
    ))
}

fn not_yet_plan(_cfg: &FirstbootConfig) -> Vec<PlanLine> {
    vec![PlanLine::note("refuse: not automated on this platform yet")]
}

pub static REPLACEMENT_ITEMS: &[Item] = &[Item::Barrier(&MEET), Item::Step(&NOT_YET)];

pub fn facts(_ctx: &mut Ctx) -> Vec<(&'static str, String)> {
    Vec::new()
}
