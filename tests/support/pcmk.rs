//! The pacemaker family (`el9-kvm`, `debian12-kvm`) against its simulator.
//! Until the build writes these platforms' overlays, each node's config is
//! the example profile's first-boot config (rendered by `clusterkick
//! render`, as for el5) with the platform set and a `[pacemaker]` table
//! naming the resources of tests/fixtures/pcmk/cib.xml (the VM rig's
//! reference CIB for the example cluster); the world holds that CIB file.

use super::firstboot::{node_config, Pair};
use super::{fixtures, SHORTS};
use clusterkick::firstboot::config::{DrbdGeneration, FirstbootConfig, PacemakerConfig};
use clusterkick::firstboot::platform::PlatformId;
use clusterkick::firstboot::sim::pcmk::{NodeWorld, World};
use std::path::Path;

pub const PLATFORMS: [PlatformId; 2] = [PlatformId::Debian12Kvm, PlatformId::El9Kvm];

/// Lines the pacemaker family reads while polling: their number depends
/// on timing, so golden files leave them out.
pub const PCMK_POLLS: &[&str] = &[
    "read /proc/drbd",
    "drbdsetup status r0 --json",
    "corosync-quorumtool -s",
    "crm_mon --one-shot --inactive --output-as=xml",
    "read /proc/mounts",
];

/// The pacemaker family's destructive command lines.
pub const PCMK_DESTRUCTIVE: &[&str] = &[
    "lvcreate ",
    "drbdadm create-md",
    "drbdadm primary --force",
    "drbdadm -- --clear-bitmap",
    "drbdadm new-current-uuid --clear-bitmap",
    "cibadmin --replace",
    "pvcreate ",
    "vgcreate ",
    "mkfs.gfs2 ",
];

pub fn cib_fixture() -> String {
    std::fs::read_to_string(fixtures().join("pcmk/cib.xml")).expect("tests/fixtures/pcmk/cib.xml")
}

/// Node `i`'s config for `platform`.
pub fn pcmk_config(platform: PlatformId, i: usize, dir: &Path, ports: [u16; 2]) -> FirstbootConfig {
    let mut cfg = node_config(i, dir, ports);
    cfg.platform = platform;
    cfg.pacemaker = Some(PacemakerConfig {
        cib_file: "/etc/clusterkick/cib.xml".into(),
        drbd_clone: "drbd_r0-clone".into(),
        locking_clone: "locking-clone".into(),
        start_after_storage: vec!["storage_drbd_vg0-clone".into()],
        op_timeout_secs: 300,
        resources_secs: 30,
        drbd_generation: match platform {
            PlatformId::El9Kvm => DrbdGeneration::V9,
            _ => DrbdGeneration::V84,
        },
    });
    cfg
}

/// A pacemaker-family pair with a fresh world holding `cib` as the
/// build's CIB file.
pub fn pcmk_pair_with(
    platform: PlatformId,
    cib: &str,
    tweak: impl Fn(usize, &mut FirstbootConfig),
) -> Pair {
    Pair::build(
        |i, d, p| pcmk_config(platform, i, d, p),
        tweak,
        |cfgs, dir| {
            World::new_pair(&cfgs[0], &cfgs[1], cib)
                .save(dir)
                .expect("save world")
        },
    )
}

pub fn pcmk_pair(platform: PlatformId, tweak: impl Fn(usize, &mut FirstbootConfig)) -> Pair {
    pcmk_pair_with(platform, &cib_fixture(), tweak)
}

impl Pair {
    pub fn pcmk_world(&self) -> World {
        World::load(&self.world_dir).expect("load world")
    }

    pub fn update_pcmk_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        World::update(&self.world_dir, f).expect("update world")
    }
}

pub fn pcmk_non_poll(w: &World, short: &str) -> Vec<String> {
    w.commands(short, "")
        .into_iter()
        .filter(|l| !PCMK_POLLS.contains(&l.as_str()))
        .collect()
}

pub fn pcmk_destructive(w: &World, short: &str) -> Vec<String> {
    w.commands(short, "change")
        .into_iter()
        .filter(|l| PCMK_DESTRUCTIVE.iter().any(|d| l.starts_with(d)))
        .collect()
}

/// Both nodes ended set up: DRBD Primary/Primary UpToDate and connected,
/// the shared VG with its LVs, GFS2 on iso_store mounted on both, every
/// resource running on both, corosync and pacemaker enabled at boot, the
/// helper disabled, the state done, the check files gone.
pub fn assert_pcmk_finished(pair: &Pair) {
    let w = pair.pcmk_world();
    assert!(w.cib.is_some(), "no CIB loaded\n{}", pair.dump());
    assert!(w.sync.is_none(), "resync still running");
    for (i, short) in SHORTS.iter().enumerate() {
        let n = w.node(short);
        assert_eq!(n.drbd.role, "Primary", "{short} role\n{}", pair.dump());
        assert_eq!(n.drbd.net, "Connected", "{short} net");
        assert_eq!(n.drbd.disk, "UpToDate", "{short} disk");
        assert!(n.drbd.by_pacemaker, "{short}: DRBD is not pacemaker's");
        let vg = n.data.vg.as_ref().expect("shared VG");
        assert_eq!(vg.lock_type, "dlm");
        let names: Vec<&str> = vg.lvs.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["iso_store", "vm01"]);
        assert_eq!(vg.lvs[0].gfs2.as_deref(), Some("an-cluster:iso_store"));
        assert_eq!(vg.lvs[1].gfs2, None);
        assert!(
            n.mounts.iter().any(|m| m.dir == "/shared/iso_store"),
            "{short} mounted"
        );
        assert_resources_running(n, short);
        for unit in ["corosync.service", "pacemaker.service"] {
            assert!(n.enabled.contains(unit), "{short}: {unit} enabled");
        }
        assert!(
            !n.enabled.contains("clusterkick-firstboot.service"),
            "{short}: helper disabled"
        );
        let state = std::fs::read_to_string(&pair.cfgs[i].state_file).expect("state file");
        assert!(
            state.contains("done = true"),
            "{short} state done:\n{state}"
        );
        assert!(
            vg.lvs[0].files.is_empty(),
            "check files removed: {:?}",
            vg.lvs[0].files
        );
    }
}

/// Every resource of the example's CIB runs on the node: DRBD Promoted,
/// the rest Started.
pub fn assert_resources_running(n: &NodeWorld, short: &str) {
    for (id, role) in [
        ("drbd_r0", "Promoted"),
        ("dlm", "Started"),
        ("lvmlockd", "Started"),
        ("lv_iso_store", "Started"),
        ("fs_iso_store", "Started"),
    ] {
        assert_eq!(
            n.resources.get(id).map(String::as_str),
            Some(role),
            "{short}: {id}"
        );
    }
}
