//! A replacement node on the pacemaker family: not automated yet. Its
//! plan is the meeting and one step that refuses (exit 13), so that a node
//! built as a replacement never runs the initial plan's creating steps.

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
        "a replacement node is not automated on the pacemaker family yet (el5-xen only): this \
         helper joins no survivor here and changed nothing. docs/firstboot.md, \"A replacement \
         node\", says what the helper does on el5-xen"
            .into(),
    ))
}

fn not_yet_plan(_cfg: &FirstbootConfig) -> Vec<PlanLine> {
    vec![PlanLine::note(
        "refuse (exit 13): a replacement node is not automated on the pacemaker family yet",
    )]
}

pub static REPLACEMENT_ITEMS: &[Item] = &[Item::Barrier(&MEET), Item::Step(&NOT_YET)];

/// No facts yet: nothing on this family reads them.
pub fn facts(_ctx: &mut Ctx) -> Vec<(&'static str, String)> {
    Vec::new()
}
