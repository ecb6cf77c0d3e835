//! What a platform's plan is made of: [`Step`]s and [`Barrier`]s, each one
//! value that says everything about itself, in an ordered list of [`Item`]s;
//! and [`Platform`], everything the engine needs from a platform. The engine
//! ([`crate::firstboot::runner`], [`crate::firstboot::recover`]) walks such
//! a list; it knows no platform. A platform defines each step next to its code, e.g.
//!
//! ```ignore
//! pub static CMAN: Step = Step {
//!     name: "cman",
//!     title: "start cman, wait for both members and quorum, enable at boot",
//!     role: Role::Both,
//!     runs: Runs::EveryRun,
//!     run,
//!     plan,
//! };
//! ```
//!
//! and lists its items in order (see `platform::el5::ITEMS`).

use crate::firstboot::config::{FirstbootConfig, NodeRole};
use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::Result;
use crate::firstboot::host::Argv;
use crate::firstboot::platform::id::PlatformId;

/// Which node of the pair runs a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Both,
    /// Only the profile's DRBD initial primary (`drbd.initial_primary`):
    /// what exists once for the pair (the initial sync, the clustered VG,
    /// the file systems). The runner decides; the step's code never checks.
    InitialPrimary,
}

impl Role {
    /// Whether a step with this role runs on the node `cfg` describes.
    pub fn runs_here(self, cfg: &FirstbootConfig) -> bool {
        match self {
            Role::Both => true,
            Role::InitialPrimary => cfg.drbd.initial_primary,
        }
    }
}

/// When a step runs again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runs {
    /// Once: skipped on later runs once the state file records it.
    Once,
    /// On every run, even when recorded, and at every boot once the first
    /// boot is done: it starts or activates something, or checks what must
    /// hold at every boot (a "service" step).
    EveryRun,
}

/// One first-boot step.
pub struct Step {
    /// Its id in the state file (`step:<name>`) and its name in logs.
    pub name: &'static str,
    /// What it does, for logs and `plan`.
    pub title: &'static str,
    pub role: Role,
    pub runs: Runs,
    /// Does it, with its guards.
    pub run: fn(&mut Ctx) -> Result<()>,
    /// The lines `plan` prints for it, built from the same command builders
    /// `run` uses. Called only on a node the role includes.
    pub plan: fn(&FirstbootConfig) -> Vec<PlanLine>,
}

/// A point where the two helpers meet: neither goes past it before both
/// reached it (see [`crate::firstboot::barrier`]). Its index on the wire is
/// its position among the plan's barriers.
pub struct Barrier {
    /// Its id in the state file (`barrier:<name>`) and its name in logs.
    pub name: &'static str,
    /// What both nodes have done when they pass it.
    pub meaning: &'static str,
    /// How long to wait for the peer there, in seconds.
    pub timeout: fn(&FirstbootConfig) -> u64,
    /// Met again at every start and never recorded: the meeting itself.
    pub every_start: bool,
}

/// A barrier after [`MEET`], met once and recorded, waited for up to the
/// config's `barrier_secs`: what every platform's plan is made of.
pub const fn barrier(name: &'static str, meaning: &'static str) -> Barrier {
    Barrier {
        name,
        meaning,
        timeout: |cfg| cfg.timeouts.barrier_secs,
        every_start: false,
    }
}

/// The first item of every plan: both helpers up and authenticated.
pub static MEET: Barrier = Barrier {
    name: "meet",
    meaning: "both helpers are up and authenticated",
    timeout: |cfg| cfg.timeouts.peer_secs,
    every_start: true,
};

/// A plan's entry.
#[derive(Clone, Copy)]
pub enum Item {
    Barrier(&'static Barrier),
    Step(&'static Step),
}

impl Item {
    /// The id recorded in the state file.
    pub fn id(self) -> String {
        match self {
            Item::Barrier(b) => format!("barrier:{}", b.name),
            Item::Step(s) => format!("step:{}", s.name),
        }
    }
}

/// A barrier's index: how many barriers come before it.
pub fn barrier_index(items: &[Item], barrier: &Barrier) -> Option<u32> {
    let mut n = 0;
    for item in items {
        if let Item::Barrier(b) = item {
            if std::ptr::eq(*b, barrier) {
                return Some(n);
            }
            n += 1;
        }
    }
    None
}

/// The last barrier: after it nothing needs the peer.
pub fn final_barrier(items: &[Item]) -> Option<&'static Barrier> {
    items.iter().rev().find_map(|i| match i {
        Item::Barrier(b) => Some(*b),
        Item::Step(_) => None,
    })
}

/// What every plan must be: its first barrier is [`MEET`] (the only
/// barrier met at every start), and only steps that run at every start on
/// both nodes come before it (local checks that need no peer); its ids are
/// unique (they are what the state file records).
pub fn check_items(items: &[Item]) -> std::result::Result<(), String> {
    match items.iter().find(|i| matches!(i, Item::Barrier(_))) {
        Some(Item::Barrier(b)) if std::ptr::eq(*b, &MEET) => {}
        _ => return Err("the first barrier must be the meet barrier".into()),
    }
    for item in items {
        match item {
            Item::Barrier(_) => break,
            Item::Step(s) if s.runs != Runs::EveryRun || s.role != Role::Both => {
                return Err(format!(
                    "step {}: only steps that run at every start on both nodes may come before meet",
                    s.name
                ))
            }
            Item::Step(_) => {}
        }
    }
    let mut ids: Vec<String> = items.iter().map(|i| i.id()).collect();
    let again = items
        .iter()
        .filter(|i| matches!(i, Item::Barrier(_)))
        .skip(1)
        .find_map(|i| match i {
            Item::Barrier(b) if b.every_start => Some(b.name),
            _ => None,
        });
    if let Some(name) = again {
        return Err(format!("barrier {name}: only meet is met at every start"));
    }
    ids.sort();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("{} appears twice", w[0]));
    }
    Ok(())
}

/// One line of `plan`: a command as it would be run, or a `#` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanLine {
    Command(String),
    Note(String),
}

impl PlanLine {
    /// A command that changes something.
    pub fn run(argv: &Argv) -> PlanLine {
        PlanLine::Command(argv.to_string())
    }

    /// A read-only command that decides what happens, and what it decides.
    pub fn check(argv: &Argv, means: &str) -> PlanLine {
        PlanLine::Note(format!(
            "  check: {argv}{}",
            if means.is_empty() {
                String::new()
            } else {
                format!("  ({means})")
            }
        ))
    }

    /// Anything else (a wait, a guard, a file written).
    pub fn note(s: impl Into<String>) -> PlanLine {
        PlanLine::Note(format!("  {}", s.into()))
    }
}

/// What DRBD tells its fence-peer handler, from the environment drbdadm
/// sets (DRBD 8.3: `DRBD_RESOURCE`, `DRBD_PEER`, and from 8.3.8
/// `DRBD_MINOR`); absent when not set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FencePeerRequest {
    pub resource: Option<String>,
    pub peer: Option<String>,
    pub minor: Option<String>,
}

/// Everything the engine needs from a platform.
pub struct Platform {
    pub id: PlatformId,
    /// Who starts the cluster stack at every boot once the first boot is
    /// done: the helper (and then it stays, answering the peer), or the
    /// platform's own cluster manager (and the helper's work ends with the
    /// first boot).
    pub boot: BootOwner,
    /// The steps and barriers, in order; the first is
    /// [`crate::firstboot::step::MEET`].
    pub items: &'static [Item],
    /// The plan of a replacement node (`role = "replacement"`): it joins
    /// the survivor, which holds the data, and never initializes. It holds
    /// no step that creates shared data (no initial sync, no PV, VG or LV
    /// in the shared VG, no file system, no cluster configuration load).
    pub replacement_items: &'static [Item],
    /// What this node tells a replacement peer about its storage, as
    /// `key=value` facts on the back channel (e.g. `drbd=<cs>/<role>/<disk>`):
    /// the replacement refuses to join a survivor whose data is not
    /// UpToDate. Read-only.
    pub facts: crate::firstboot::ctx::FactsFn,
    /// Logs background work that outlives its step (a DRBD resync), if any
    /// is going on; true while it goes on. The runner calls it after each
    /// step, then until it returns false once the last step is done.
    pub progress: fn(&mut Ctx) -> Result<bool>,
    /// `recover`: brings storage back after a split brain, keeping the data
    /// of the node the operator trusts.
    pub recover: fn(&mut Ctx, Trust) -> Result<()>,
    /// `start-alone`: brings this node's cluster stack up without its peer
    /// (the operator's explicit decision; the peer gets fenced).
    pub start_alone: fn(&mut Ctx) -> Result<()>,
    /// What `start-alone` says it will do, before anything runs.
    pub start_alone_warning: fn(&FirstbootConfig) -> Vec<String>,
    /// The command that starts the helper's own service (in the background),
    /// run once `start-alone` is done so that the peer is met when it comes
    /// back.
    pub helper_service_start: fn() -> Argv,
    /// `drbd-fence-peer`: fences the peer for DRBD's fence-peer handler,
    /// within the limit; true only when the peer is known to be fenced.
    pub fence_peer: fn(&mut Ctx, &FencePeerRequest, std::time::Duration) -> bool,
}

/// Who starts the cluster stack at every boot (see [`Platform::boot`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootOwner {
    /// The helper: it meets the peer, starts the services in order, then
    /// stays to answer the peer's helper (el5-xen: cman has no
    /// wait-for-all, so nothing of the cluster may start at boot alone).
    Helper,
    /// The cluster manager (pacemaker, with corosync's wait_for_all): the
    /// helper disables itself when the first boot is done, and a `run` on a
    /// node that is done does nothing.
    ClusterManager,
}

impl Platform {
    /// The plan for the node `cfg` describes: its role picks it.
    pub fn items_for(&self, cfg: &FirstbootConfig) -> &'static [Item] {
        match cfg.role {
            NodeRole::Initial => self.items,
            NodeRole::Replacement => self.replacement_items,
        }
    }
}

pub use crate::firstboot::barrier::wire::{FACT_ROLE, FACT_SETUP, SETUP_DONE};

/// The destructive operations (their ledger names in
/// [`Ctx::destructive`]) a replacement node may run: on its own disks only.
/// Every other one (initial sync, PV, VG, LVs of the shared VG, file
/// systems, the cluster configuration) is refused for the role, whatever
/// the guard found.
pub const REPLACEMENT_OPS: &[&str] = &["backing-lv", "create-md"];

/// Who holds the good data, as the operator says for `recover`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// This node holds the good data (the survivor).
    ThisNode,
    /// The peer holds the good data; this node's changes are discarded.
    Peer,
}
