//! PROVISIONAL, until the pacemaker family's plan lands (branch p11-helper,
//! `platform/pcmk/`): the builder writes `el9-kvm` and `debian12-kvm`
//! configs, and a helper built from this tree must say plainly that it
//! cannot run them, rather than pretend. Its one step refuses, touching
//! nothing. The integrator replaces this file and its two arms (here in
//! `for_id`, in `sim::open`) with p11-helper's `pcmk` module.

use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::{Error, Result};
use crate::firstboot::platform::id::PlatformId;
use crate::firstboot::step::{Item, PlanLine, Platform, Role, Runs, Step, Trust, MEET};

const WHY: &str = "this clusterkick-firstboot has no plan for the pacemaker family (el9-kvm, debian12-kvm) yet: build the helper from a tree that has src/firstboot/platform/pcmk/";

fn refuse(_: &mut Ctx) -> Result<()> {
    Err(Error::Unexpected(WHY.into()))
}

static NO_PLAN: Step = Step {
    name: "no-plan",
    title: "refuse: this helper has no plan for the pacemaker family",
    role: Role::Both,
    runs: Runs::EveryRun,
    run: refuse,
    plan: |_| vec![PlanLine::note(WHY)],
};

static ITEMS: &[Item] = &[Item::Barrier(&MEET), Item::Step(&NO_PLAN)];

fn no_recover(_: &mut Ctx, _: Trust) -> Result<()> {
    Err(Error::Unexpected(WHY.into()))
}

pub static EL9_KVM: Platform = Platform {
    id: PlatformId::El9Kvm,
    items: ITEMS,
    progress: |_| Ok(false),
    recover: no_recover,
};

pub static DEBIAN12_KVM: Platform = Platform {
    id: PlatformId::Debian12Kvm,
    items: ITEMS,
    progress: |_| Ok(false),
    recover: no_recover,
};
