//! The pacemaker family: `el9-kvm` and `debian12-kvm`, one runtime
//! (corosync 3, pacemaker, dlm, lvmlockd, dual-primary DRBD, GFS2) and one
//! step list; what differs (DRBD 9 or 8.4: spellings, status formats) is
//! decided by the config's `[pacemaker] drbd_generation`.
//! docs/firstboot.md lists the items and their guards.
//!
//! - [`steps`]: one file per subsystem, each step one `static` [`Step`];
//! - [`argv`]: the command lines; [`parse`]: the tools' output;
//! - [`recover`]: not automated on this family (it says what to do).
//!
//! [`Step`]: crate::firstboot::step::Step

pub mod alone;
pub mod argv;
pub mod parse;
pub mod recover;
pub mod steps;

use crate::firstboot::platform::id::PlatformId;
use crate::firstboot::step::{barrier, Barrier, BootOwner, Item, Platform, MEET};
use steps::{check, cluster, drbd, inspect, join, storage};

pub static EL9_KVM: Platform = Platform {
    id: PlatformId::El9Kvm,
    boot: BootOwner::ClusterManager,
    items: ITEMS,
    replacement_items: join::REPLACEMENT_ITEMS,
    facts: join::facts,
    progress: drbd::progress,
    recover: recover::recover,
    start_alone: alone::start_alone,
    start_alone_warning: alone::start_alone_warning,
    helper_service_start: alone::helper_service_start,
    fence_peer: alone::fence_peer,
};

pub static DEBIAN12_KVM: Platform = Platform {
    id: PlatformId::Debian12Kvm,
    boot: BootOwner::ClusterManager,
    items: ITEMS,
    replacement_items: join::REPLACEMENT_ITEMS,
    facts: join::facts,
    progress: drbd::progress,
    recover: recover::recover,
    start_alone: alone::start_alone,
    start_alone_warning: alone::start_alone_warning,
    helper_service_start: alone::helper_service_start,
    fence_peer: alone::fence_peer,
};

static INSPECTED: Barrier = barrier(
    "inspected",
    "both found no data on their disks; both start corosync and pacemaker right after it",
);
static CLUSTER_UP: Barrier = barrier(
    "cluster-up",
    "both nodes are online in pacemaker with quorum",
);
static CIB_LOADED: Barrier = barrier("cib-loaded", "the configuration is loaded");
static DRBD_MD: Barrier = barrier("drbd-md", "both have DRBD metadata; both bring DRBD up");
static DRBD_CONNECTED: Barrier = barrier("drbd-connected", "DRBD is connected on both");
/// Once passed, DRBD is never brought up by hand again (see
/// `steps::drbd::DRBD_UP`).
pub static SYNC_STARTED: Barrier = barrier(
    "sync-started",
    "the initial sync choice is made and neither side is Primary",
);
static DRBD_RELEASED: Barrier = barrier("drbd-released", "DRBD is down on both");
static STORAGE_READY: Barrier = barrier(
    "storage-ready",
    "DRBD Promoted, dlm and lvmlockd Started on both",
);
static VG_CREATED: Barrier = barrier("vg-created", "the shared VG and its LVs exist");
static FS_MADE: Barrier = barrier("fs-made", "the GFS2 file systems exist");
static ALL_STARTED: Barrier = barrier("all-started", "every resource runs on both nodes");
static FS_WRITTEN: Barrier = barrier("fs-written", "each node wrote its check file on GFS2");
static FS_CHECKED: Barrier = barrier("fs-checked", "each node read the other's check file");

/// The plan, in order.
pub static ITEMS: &[Item] = &[
    Item::Barrier(&MEET),
    Item::Step(&inspect::INSPECT),
    Item::Barrier(&INSPECTED),
    Item::Step(&drbd::BACKING_LV),
    Item::Step(&cluster::CLUSTER),
    Item::Barrier(&CLUSTER_UP),
    Item::Step(&cluster::CIB_LOAD),
    Item::Barrier(&CIB_LOADED),
    Item::Step(&drbd::DRBD_MD),
    Item::Barrier(&DRBD_MD),
    Item::Step(&drbd::DRBD_UP),
    Item::Barrier(&DRBD_CONNECTED),
    Item::Step(&drbd::INITIAL_SYNC),
    Item::Barrier(&SYNC_STARTED),
    Item::Step(&drbd::DRBD_RELEASE),
    Item::Barrier(&DRBD_RELEASED),
    Item::Step(&drbd::DRBD_HANDOFF),
    Item::Step(&drbd::DRBD_PROMOTED),
    Item::Barrier(&STORAGE_READY),
    Item::Step(&storage::SHARED_VG),
    Item::Barrier(&VG_CREATED),
    Item::Step(&storage::LOCK_START),
    Item::Step(&storage::GFS2_MKFS),
    Item::Barrier(&FS_MADE),
    Item::Step(&storage::STORAGE_START),
    Item::Step(&storage::ALL_STARTED),
    Item::Barrier(&ALL_STARTED),
    Item::Step(&check::FS_WRITE),
    Item::Barrier(&FS_WRITTEN),
    Item::Step(&check::FS_READ),
    Item::Barrier(&FS_CHECKED),
    Item::Step(&check::FINISH),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firstboot::step::{check_items, final_barrier, Role, Runs};

    #[test]
    fn items_are_well_formed_and_in_the_documented_order() {
        check_items(ITEMS).unwrap();
        assert_eq!(final_barrier(ITEMS).map(|b| b.name), Some("fs-checked"));
        let steps: Vec<_> = ITEMS
            .iter()
            .filter_map(|i| match i {
                Item::Step(s) => Some(*s),
                Item::Barrier(_) => None,
            })
            .collect();
        let named = |f: &dyn Fn(&&crate::firstboot::step::Step) -> bool| -> Vec<&str> {
            steps.iter().filter(|s| f(s)).map(|s| s.name).collect()
        };
        assert_eq!(
            named(&|s| s.role == Role::InitialPrimary),
            [
                "cib-load",
                "initial-sync",
                "drbd-handoff",
                "shared-vg",
                "gfs2-mkfs",
                "storage-start"
            ]
        );
        assert_eq!(
            named(&|s| s.runs == Runs::EveryRun),
            [
                "cluster",
                "drbd-up",
                "drbd-promoted",
                "lock-start",
                "all-started"
            ]
        );
        // Nothing after the step that marks done.
        assert!(matches!(ITEMS.last(), Some(Item::Step(s)) if s.name == "finish"));
    }
}
