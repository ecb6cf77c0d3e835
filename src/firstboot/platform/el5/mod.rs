//! `el5-xen`: CentOS 5 with cman + openais, DRBD 8.3 dual-primary, clvmd and
//! GFS2, walked in the seed's order (sections 5.4, 6 and 7) with its
//! mistakes corrected. docs/firstboot.md lists the items and what each does.
//!
//! - [`steps`]: one file per subsystem, each step one `static` [`Step`]
//!   (name, title, role, when it runs again, its run and plan functions);
//! - [`argv`]: the EL5-only command lines; [`parse`]: their output;
//! - [`recover`]: the seed's section 7.3, done right.

pub mod argv;
pub mod fence_peer;
pub mod parse;
pub mod recover;
pub mod start_alone;
pub mod steps;

use crate::firstboot::platform::id::PlatformId;
use crate::firstboot::step::{barrier, Barrier, BootOwner, Item, Platform, MEET};
use steps::{clvm, cman, drbd, finish, gfs2, inspect, join, xend};

pub static PLATFORM: Platform = Platform {
    id: PlatformId::El5Xen,
    boot: BootOwner::Helper,
    items: ITEMS,
    replacement_items: REPLACEMENT_ITEMS,
    facts: join::facts,
    progress: drbd::progress,
    recover: recover::recover,
    start_alone: start_alone::start_alone,
    start_alone_warning: start_alone::warning,
    helper_service_start: start_alone::helper_service_start,
    fence_peer: fence_peer::fence_peer,
};

static INSPECTED: Barrier = barrier(
    "inspected",
    "both found no data on their disks; both start cman right after it",
);
static DRBD_MD: Barrier = barrier(
    "drbd-md",
    "both have DRBD metadata; both start drbd right after it",
);
static DRBD_CONNECTED: Barrier = barrier("drbd-connected", "DRBD is connected on both");
static SYNC_STARTED: Barrier = barrier("sync-started", "the primary started the initial sync");
static CLVMD: Barrier = barrier("clvmd", "clvmd runs on both and both are DRBD Primary");
static VG_CREATED: Barrier = barrier("vg-created", "the clustered VG and its LVs exist");
static FS_MADE: Barrier = barrier("fs-made", "the GFS2 file systems exist");
static FS_WRITTEN: Barrier = barrier("fs-written", "each node wrote its check file on GFS2");
static FS_CHECKED: Barrier = barrier("fs-checked", "each node read the other's check file");

/// The plan, in order. On a node whose first boot is done, each start (each
/// boot) runs the [`crate::firstboot::step::Runs::EveryRun`] items only:
/// xend-order, meet (as long as it takes), cman, drbd-start, drbd-primary,
/// clvmd, lv-activate, gfs2-mount.
pub static ITEMS: &[Item] = &[
    Item::Step(&xend::XEND_ORDER),
    Item::Barrier(&MEET),
    Item::Step(&inspect::INSPECT),
    Item::Barrier(&INSPECTED),
    Item::Step(&cman::CMAN),
    Item::Step(&drbd::BACKING_LV),
    Item::Step(&drbd::DRBD_MD),
    Item::Barrier(&DRBD_MD),
    Item::Step(&drbd::DRBD_START),
    Item::Barrier(&DRBD_CONNECTED),
    Item::Step(&drbd::INITIAL_SYNC),
    Item::Barrier(&SYNC_STARTED),
    Item::Step(&drbd::DRBD_PRIMARY),
    Item::Step(&clvm::CLVMD),
    Item::Barrier(&CLVMD),
    Item::Step(&clvm::CLUSTERED_VG),
    Item::Barrier(&VG_CREATED),
    Item::Step(&clvm::LV_ACTIVATE),
    Item::Step(&gfs2::GFS2_MKFS),
    Item::Barrier(&FS_MADE),
    Item::Step(&gfs2::GFS2_MOUNT),
    Item::Step(&gfs2::FS_WRITE),
    Item::Barrier(&FS_WRITTEN),
    Item::Step(&gfs2::FS_READ),
    Item::Barrier(&FS_CHECKED),
    Item::Step(&finish::FINISH),
];

/// The plan of a replacement node: it joins the survivor, which holds the
/// data, and creates nothing shared. Its one barrier is the meeting: the
/// survivor's helper answers it (it stays up after every boot) and says
/// its setup is done, so it needs nothing more from this node. Its DRBD
/// metadata is made only on its own empty backing LV (the guards of the
/// initial plan); DRBD then resyncs it from the survivor. The boot
/// sequence afterwards is the initial plan's (the same service steps).
pub static REPLACEMENT_ITEMS: &[Item] = &[
    Item::Step(&xend::XEND_ORDER),
    Item::Barrier(&MEET),
    Item::Step(&join::SURVIVOR),
    Item::Step(&inspect::INSPECT),
    Item::Step(&cman::CMAN),
    Item::Step(&join::SURVIVOR_DISK),
    Item::Step(&drbd::BACKING_LV),
    Item::Step(&drbd::DRBD_MD),
    Item::Step(&drbd::DRBD_START),
    Item::Step(&join::JOIN_SYNC),
    Item::Step(&drbd::DRBD_PRIMARY),
    Item::Step(&clvm::CLVMD),
    Item::Step(&clvm::LV_ACTIVATE),
    Item::Step(&gfs2::GFS2_MOUNT),
    Item::Step(&finish::FINISH),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firstboot::step::{barrier_index, check_items, final_barrier, Role, Runs};

    #[test]
    fn items_are_unique_and_in_the_seeds_order() {
        check_items(ITEMS).unwrap();
        let ids: Vec<String> = ITEMS.iter().map(|i| i.id()).collect();
        assert_eq!(ids.len(), 26);
        assert_eq!(final_barrier(ITEMS).map(|b| b.name), Some("fs-checked"));
        assert_eq!(barrier_index(ITEMS, &MEET), Some(0));
        assert_eq!(barrier_index(ITEMS, &FS_CHECKED), Some(9));
        // What the state files of earlier helpers recorded keeps its meaning.
        assert_eq!(ids[0], "step:xend-order");
        assert_eq!(ids[4], "step:cman");
        assert_eq!(ids[7], "barrier:drbd-md");
        assert_eq!(ids[25], "step:finish");
    }

    #[test]
    fn the_replacement_plan_creates_nothing_shared() {
        check_items(REPLACEMENT_ITEMS).unwrap();
        let steps: Vec<&str> = REPLACEMENT_ITEMS
            .iter()
            .filter_map(|i| match i {
                Item::Step(s) => Some(s.name),
                Item::Barrier(_) => None,
            })
            .collect();
        for never in [
            "initial-sync",
            "clustered-vg",
            "gfs2-mkfs",
            "fs-write",
            "fs-read",
        ] {
            assert!(!steps.contains(&never), "{never} in the replacement plan");
        }
        assert!(REPLACEMENT_ITEMS.iter().all(|i| match i {
            Item::Step(s) => s.role == Role::Both,
            Item::Barrier(b) => std::ptr::eq(*b, &MEET),
        }));
        // Its boot sequence is the initial plan's.
        let every = |items: &[Item]| -> Vec<&str> {
            items
                .iter()
                .filter_map(|i| match i {
                    Item::Step(s) if s.runs == Runs::EveryRun => Some(s.name),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(every(REPLACEMENT_ITEMS), every(ITEMS));
    }

    #[test]
    fn roles_and_reruns_as_documented() {
        let steps: Vec<_> = ITEMS
            .iter()
            .filter_map(|i| match i {
                Item::Step(s) => Some(*s),
                Item::Barrier(_) => None,
            })
            .collect();
        let named = |role: Role| -> Vec<&str> {
            steps
                .iter()
                .filter(|s| s.role == role)
                .map(|s| s.name)
                .collect()
        };
        assert_eq!(
            named(Role::InitialPrimary),
            ["initial-sync", "clustered-vg", "gfs2-mkfs"]
        );
        let every: Vec<&str> = steps
            .iter()
            .filter(|s| s.runs == Runs::EveryRun)
            .map(|s| s.name)
            .collect();
        // The boot sequence, in order.
        assert_eq!(
            every,
            [
                "xend-order",
                "cman",
                "drbd-start",
                "drbd-primary",
                "clvmd",
                "lv-activate",
                "gfs2-mount"
            ]
        );
    }
}
